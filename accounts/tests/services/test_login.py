from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.db import OperationalError

from accounts.models import LoginSession
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope
from events.models import OutboxEvent
from security.tests.helpers import attempt

RIGHT, WRONG = "SecurePass123", "WrongPass999"


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", email="ada@example.com")


def test_a_login_whose_session_cannot_be_written_changes_nothing(api_client, ada):
    """The lockout's reset, last_login and the session with its audit row and event
    commit together: a write failing halfway leaves the failures counted."""
    attempt(api_client, "ada", WRONG)
    with mock.patch(
        "accounts.services.sessions.audit_record", side_effect=OperationalError("disk full")
    ):
        response = attempt(api_client, "ada", RIGHT)

    assert_envelope(response, 503)
    ada.refresh_from_db()
    assert ada.last_login is None
    assert AccessAttempt.objects.get().failures_since_start == 1
    assert not LoginSession.objects.filter(user=ada).exists()
    assert not OutboxEvent.objects.filter(type="login.succeeded").exists()


def test_a_login_commits_its_writes_together(api_client, ada):
    attempt(api_client, "ada", WRONG)

    response = attempt(api_client, "ada", RIGHT)

    assert response.status_code == 200
    ada.refresh_from_db()
    assert ada.last_login is not None
    assert not AccessAttempt.objects.exists()
    assert LoginSession.objects.filter(user=ada).count() == 1
    assert OutboxEvent.objects.filter(type="login.succeeded").count() == 1
