"""Fixtures shared by the account tests."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import User
from accounts.tests.helpers import bearer, enrol, login
from accounts.tests.world import build_world


@pytest.fixture
def admin_client(client, db):
    """A Django test client logged in to the admin site as a superuser (`client.admin`)."""
    admin = User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )
    client.force_login(admin)
    client.admin = admin
    return client


@pytest.fixture
def auth(api_client, user):
    return bearer(login(api_client, user.email)["access_token"])


@pytest.fixture
def logged_in(api_client, user):
    return user, login(api_client, user.email)


@pytest.fixture
def enrolled(api_client, user):
    totp, codes = enrol(api_client, user)
    # Three time steps later: every code of the next steps is fresh for the device.
    with time_machine.travel(timezone.now() + timedelta(seconds=90), tick=True):
        yield user, totp, codes


@pytest.fixture
def world(db):
    return build_world()
