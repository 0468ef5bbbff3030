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


@pytest.fixture
def admin_client(client, db):
    """A Django test client logged in to the admin site as a superuser."""
    from accounts.models import User

    admin = User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )
    client.force_login(admin)
    client.admin = admin
    return client
