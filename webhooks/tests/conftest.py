import pytest

from accounts.tests.world import build_world
from webhooks.tests.receiver import running_receiver


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def receiver(settings):
    """A receiver on loopback, which the tests allow webhooks to reach."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with running_receiver() as running:
        yield running


@pytest.fixture
def second_receiver():
    with running_receiver() as running:
        yield running
