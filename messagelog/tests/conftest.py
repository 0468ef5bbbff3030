import pytest

from messagelog.queue import MessageQueue, message_queue


@pytest.fixture
def queue(db) -> MessageQueue:
    found = message_queue()
    if found is None:
        pytest.skip("the message queue lives in Redis: run with REDIS_URL (CI does)")
    return found


@pytest.fixture
def batches(settings):
    """Small batches so a handful of entries exercises the batch boundaries."""
    settings.MESSAGE_BATCH_SIZE = 3
    settings.MESSAGE_MAX_QUEUE_SIZE = 6
    return settings
