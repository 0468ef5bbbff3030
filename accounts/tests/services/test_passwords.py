"""password_confirm: every password check of a logged-in user counts like a login."""

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.helpers import (
    LOGIN_URL,
    PASSWORD_CHECKS,
    assert_envelope,
    bearer,
    login,
    send_password_check,
)
from security.models import SecurityEvent

WRONG = "WrongPass999"


@pytest.mark.parametrize("name", PASSWORD_CHECKS)
def test_wrong_passwords_lock_the_account_like_failed_logins(api_client, user, settings, name):
    settings.RATELIMIT_PASSWORD_CHANGE = "100/m"  # its own limit is not what is tested here
    auth = bearer(login(api_client, user.username)["access_token"])

    answers = [
        send_password_check(api_client, name, WRONG, auth, REMOTE_ADDR=f"198.51.100.{n}")
        for n in range(5)
    ]

    assert [answer.status_code for answer in answers[:4]] == [400] * 4
    assert_envelope(answers[4], 423, "ACCOUNT_LOCKED")
    assert int(answers[4]["Retry-After"]) > 3500
    right = send_password_check(
        api_client, name, DEFAULT_PASSWORD, auth, REMOTE_ADDR="198.51.100.9"
    )
    assert_envelope(right, 423, "ACCOUNT_LOCKED")
    relogin = api_client.post(
        LOGIN_URL, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert_envelope(relogin, 423, "ACCOUNT_LOCKED")


def test_wrong_passwords_and_failed_logins_share_one_count(api_client, user):
    auth = bearer(login(api_client, user.username)["access_token"])
    for n in range(3):
        api_client.post(
            LOGIN_URL,
            {"email": user.email.upper(), "password": WRONG},
            format="json",
            REMOTE_ADDR=f"203.0.113.{n}",
        )

    send_password_check(api_client, "email change", WRONG, auth, REMOTE_ADDR="203.0.113.10")
    last = send_password_check(api_client, "deletion (v1)", WRONG, auth, REMOTE_ADDR="203.0.113.11")

    assert_envelope(last, 423, "ACCOUNT_LOCKED")


def test_a_wrong_password_is_a_security_event_of_the_account(api_client, user):
    auth = bearer(login(api_client, user.username)["access_token"])

    send_password_check(api_client, "email change", WRONG, auth)

    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert (event.user_id, event.details) == (user.pk, {"purpose": "email_change"})


def test_password_checks_are_rate_limited_per_user(api_client, user, settings):
    settings.RATELIMIT_PASSWORD_CONFIRM = "2/m"
    auth = bearer(login(api_client, user.username)["access_token"])

    # One instant: the per-minute window cannot roll over between the three checks.
    with time_machine.travel(timezone.now(), tick=False):
        answers = [
            send_password_check(api_client, name, DEFAULT_PASSWORD, auth)
            for name in ("MFA setup", "MFA setup", "email change")
        ]

    assert [answer.status_code for answer in answers[:2]] == [200, 200]
    assert_envelope(answers[2], 429, "RATE_LIMITED")
    assert answers[2]["Retry-After"]
    user.refresh_from_db()
    assert user.email != "new@example.com"
