"""The flush task and its beat schedule."""

from messagelog import services
from messagelog.models import MessageLog
from messagelog.tests.helpers import conversation


def test_beat_flushes_on_the_configured_interval(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["flush-message-log"]

    assert entry["task"] == "messagelog.tasks.flush_message_log"
    assert entry["schedule"].total_seconds() == settings.MESSAGE_FLUSH_INTERVAL_SECONDS


def test_the_flush_task_drains_the_queue(queue):
    from messagelog.tasks import flush_message_log

    services.enqueue(conversation())

    assert flush_message_log.delay().get() == 1
    assert MessageLog.objects.count() == 1
