"""The MFA code throttle: a code sent too soon after a wrong one is 429."""

from datetime import timedelta

import pyotp
import pytest
import time_machine
from django.utils import timezone

from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.helpers import (
    CONFIRM,
    DISABLE,
    LOGIN_URL,
    SETUP,
    VERIFY,
    assert_envelope,
    bearer,
    enrol,
    login,
    password_step,
)


def _assert_throttled(response) -> None:
    body = assert_envelope(response, 429, "MFA_THROTTLED")
    assert int(response["Retry-After"]) >= 1
    assert body["retry_after_seconds"] == int(response["Retry-After"])
    assert "wait" in body["message"]


@pytest.fixture
def enrolled_clock_held(api_client, user):
    totp, _ = enrol(api_client, user)
    with time_machine.travel(timezone.now() + timedelta(seconds=90), tick=False) as clock:
        yield user, totp, clock


@pytest.mark.parametrize(
    ("login_url", "verify_url"),
    [(LOGIN_URL, VERIFY), ("/v1/users/login", "/v1/users/login/mfa")],
)
def test_valid_code_right_after_a_wrong_one_is_429_not_invalid(
    api_client, enrolled_clock_held, login_url, verify_url
):
    user, totp, clock = enrolled_clock_held
    token = password_step(api_client, user, login_url)["mfa_token"]

    wrong = api_client.post(verify_url, {"mfa_token": token, "code": "000000"}, format="json")
    throttled = api_client.post(verify_url, {"mfa_token": token, "code": totp.now()}, format="json")
    clock.shift(timedelta(seconds=int(throttled["Retry-After"])))
    accepted = api_client.post(verify_url, {"mfa_token": token, "code": totp.now()}, format="json")

    assert_envelope(wrong, 401, "INVALID_MFA_CODE")
    _assert_throttled(throttled)
    assert accepted.status_code == 200, accepted.json()


def test_confirm_code_right_after_a_wrong_one_is_429(api_client, user):
    auth = bearer(login(api_client, user.username)["access_token"])
    with time_machine.travel(timezone.now(), tick=False):
        enrolment = api_client.post(SETUP, {"password": DEFAULT_PASSWORD}, format="json", **auth)
        totp = pyotp.TOTP(enrolment.json()["secret"])

        wrong = api_client.post(CONFIRM, {"code": "000000"}, format="json", **auth)
        throttled = api_client.post(CONFIRM, {"code": totp.now()}, format="json", **auth)

    assert_envelope(wrong, 400, "INVALID_MFA_CODE")
    _assert_throttled(throttled)


def test_disable_code_right_after_a_wrong_one_is_429(api_client, enrolled_clock_held):
    user, totp, _ = enrolled_clock_held
    token = password_step(api_client, user)["mfa_token"]
    auth = bearer(
        api_client.post(VERIFY, {"mfa_token": token, "code": totp.now()}, format="json").json()[
            "access_token"
        ]
    )

    wrong = api_client.post(
        DISABLE, {"password": DEFAULT_PASSWORD, "code": "000000"}, format="json", **auth
    )
    throttled = api_client.post(
        DISABLE, {"password": DEFAULT_PASSWORD, "code": totp.now()}, format="json", **auth
    )

    assert_envelope(wrong, 400, "INVALID_MFA_CODE")
    _assert_throttled(throttled)
