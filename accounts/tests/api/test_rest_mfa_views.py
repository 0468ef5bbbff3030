"""/api/v1/auth/mfa: TOTP enrolment, the code step of a login, recovery codes, disabling."""

import base64
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import time_machine
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken

from accounts.models import LoginSession
from accounts.tests.helpers import (
    CODES,
    CONFIRM,
    DISABLE,
    LOGIN_URL,
    ME_URL,
    PASSWORD,
    SETUP,
    VERIFY,
    assert_envelope,
    bearer,
    enrol,
    login,
    password_step,
    totp_secret_from,
)
from security.models import SecurityEvent
from security.tests.helpers import audit_row


def test_setup_answers_otpauth_uri_secret_and_svg_qr_code(api_client, user):
    auth = bearer(login(api_client, user.email)["access_token"])

    body = api_client.post(SETUP, {"password": PASSWORD}, format="json", **auth).json()

    uri = urlparse(body["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert parse_qs(uri.query)["secret"][0] == body["secret"]
    assert body["qr_code"].startswith("data:image/svg+xml;base64,")
    assert b"<svg" in base64.b64decode(body["qr_code"].split(",", 1)[1])


def test_setup_needs_the_password(api_client, user):
    auth = bearer(login(api_client, user.email)["access_token"])

    response = api_client.post(SETUP, {"password": "Wrong12345"}, format="json", **auth)

    assert_envelope(response, 400, "INVALID_CURRENT_PASSWORD")


def test_confirm_with_wrong_code_keeps_mfa_off(api_client, user):
    auth = bearer(login(api_client, user.email)["access_token"])
    api_client.post(SETUP, {"password": PASSWORD}, format="json", **auth)

    response = api_client.post(CONFIRM, {"code": "000000"}, format="json", **auth)

    assert_envelope(response, 400, "INVALID_MFA_CODE")
    assert "access_token" in password_step(api_client, user)


def test_confirmation_returns_ten_hashed_single_use_recovery_codes(api_client, user):
    _, codes = enrol(api_client, user)

    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert not stored & set(codes)
    assert not stored & {code.replace("-", "") for code in codes}
    assert audit_row(action="mfa.enabled")


@pytest.mark.parametrize("url", [LOGIN_URL, "/v1/users/login"])
def test_login_becomes_two_step(api_client, enrolled, url):
    user, totp, _ = enrolled

    sessions_before = LoginSession.objects.filter(user=user).count()

    first = password_step(api_client, user, url)

    assert first["mfa_required"] is True
    assert "access_token" not in first and "session" not in first
    assert LoginSession.objects.filter(user=user).count() == sessions_before
    # The MFA token opens nothing else.
    assert_envelope(api_client.get(ME_URL, **bearer(first["mfa_token"])), 401)
    verified = api_client.post(
        VERIFY, {"mfa_token": first["mfa_token"], "code": totp.now()}, format="json"
    )
    assert verified.status_code == 200
    assert api_client.get(ME_URL, **bearer(verified.json()["access_token"])).status_code == 200
    assert LoginSession.objects.get(pk=verified.json()["session_id"]).mfa_verified


def test_code_is_accepted_once_only(api_client, enrolled):
    user, totp, _ = enrolled
    code = totp.now()
    first = password_step(api_client, user)
    assert (
        api_client.post(
            VERIFY, {"mfa_token": first["mfa_token"], "code": code}, format="json"
        ).status_code
        == 200
    )

    second = password_step(api_client, user)
    replay = api_client.post(
        VERIFY, {"mfa_token": second["mfa_token"], "code": code}, format="json"
    )

    assert_envelope(replay, 401, "INVALID_MFA_CODE")


def test_mfa_token_is_single_use(api_client, enrolled):
    user, totp, _ = enrolled
    first = password_step(api_client, user)
    api_client.post(VERIFY, {"mfa_token": first["mfa_token"], "code": totp.now()}, format="json")

    again = api_client.post(
        VERIFY, {"mfa_token": first["mfa_token"], "code": totp.now()}, format="json"
    )

    assert_envelope(again, 401, "INVALID_MFA_TOKEN")


def test_mfa_token_expires(api_client, enrolled):
    user, totp, _ = enrolled
    first = password_step(api_client, user)

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = api_client.post(
            VERIFY, {"mfa_token": first["mfa_token"], "code": totp.now()}, format="json"
        )

    assert_envelope(response, 401, "INVALID_MFA_TOKEN")


@pytest.mark.parametrize("offset", [-30, 30])
def test_one_step_of_clock_drift_is_accepted(api_client, enrolled, offset):
    user, totp, _ = enrolled
    first = password_step(api_client, user)
    drifted = totp.at(timezone.now().timestamp() + offset)

    response = api_client.post(
        VERIFY, {"mfa_token": first["mfa_token"], "code": drifted}, format="json"
    )

    assert response.status_code == 200


def test_two_steps_of_drift_are_refused(api_client, enrolled):
    user, totp, _ = enrolled
    first = password_step(api_client, user)
    stale = totp.at(timezone.now().timestamp() - 90)

    response = api_client.post(
        VERIFY, {"mfa_token": first["mfa_token"], "code": stale}, format="json"
    )

    assert_envelope(response, 401, "INVALID_MFA_CODE")


def test_recovery_code_works_once(api_client, enrolled):
    user, _, codes = enrolled
    first = password_step(api_client, user)
    ok = api_client.post(
        VERIFY, {"mfa_token": first["mfa_token"], "code": codes[0].lower()}, format="json"
    )
    second = password_step(api_client, user)

    reuse = api_client.post(
        VERIFY, {"mfa_token": second["mfa_token"], "code": codes[0]}, format="json"
    )

    assert ok.status_code == 200
    assert_envelope(reuse, 401, "INVALID_MFA_CODE")
    assert StaticToken.objects.count() == 9


def test_wrong_codes_count_towards_lockout(api_client, enrolled):
    user, _, _ = enrolled
    start = timezone.now()
    for step in range(5):  # each after django-otp's wait, so each code is checked
        with time_machine.travel(start + timedelta(seconds=30 * step)):
            token = password_step(api_client, user)["mfa_token"]
            api_client.post(
                VERIFY,
                {"mfa_token": token, "code": "000000"},
                format="json",
                REMOTE_ADDR="10.2.2.2",
            )

    response = api_client.post(
        LOGIN_URL, {"email": user.email, "password": PASSWORD}, format="json"
    )

    assert_envelope(response, 423, "ACCOUNT_LOCKED")
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_FAILED).count() == 5


def _verified_auth(api_client, user, code: str) -> dict:
    token = password_step(api_client, user)["mfa_token"]
    response = api_client.post(VERIFY, {"mfa_token": token, "code": code}, format="json")
    return bearer(response.json()["access_token"])


def test_regenerating_recovery_codes_kills_the_old_ones(api_client, enrolled):
    user, _, codes = enrolled
    auth = _verified_auth(api_client, user, codes[1])

    new = api_client.post(CODES, {"password": PASSWORD, "code": codes[2]}, format="json", **auth)
    first = password_step(api_client, user)
    old_code = api_client.post(
        VERIFY, {"mfa_token": first["mfa_token"], "code": codes[3]}, format="json"
    )
    # django-otp throttles a device for a moment after a wrong code.
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        new_code = api_client.post(
            VERIFY,
            {"mfa_token": first["mfa_token"], "code": new.json()["recovery_codes"][0]},
            format="json",
        )

    assert len(new.json()["recovery_codes"]) == 10
    assert_envelope(old_code, 401, "INVALID_MFA_CODE")
    assert new_code.status_code == 200


def test_disable_needs_password_and_code(api_client, enrolled):
    user, _, codes = enrolled
    auth = bearer(
        api_client.post(
            VERIFY,
            {"mfa_token": password_step(api_client, user)["mfa_token"], "code": codes[0]},
            format="json",
        ).json()["access_token"]
    )

    no_code = api_client.post(
        DISABLE, {"password": PASSWORD, "code": "000000"}, format="json", **auth
    )
    bad_password = api_client.post(
        DISABLE, {"password": "Nope12345", "code": codes[1]}, format="json", **auth
    )
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        ok = api_client.post(
            DISABLE, {"password": PASSWORD, "code": codes[1]}, format="json", **auth
        )

    assert_envelope(no_code, 400, "INVALID_MFA_CODE")
    assert_envelope(bad_password, 400, "INVALID_CURRENT_PASSWORD")
    assert ok.status_code == 200
    assert "access_token" in password_step(api_client, user)


def _clear_of_a_step_boundary(margin_seconds: float = 3.0) -> None:
    """Wait out the end of a 30 s TOTP step: a confirmation that straddles one makes
    the device record a drift, and the later codes of the test would miss."""
    into_step = time.time() % 30
    if into_step > 30 - margin_seconds:
        time.sleep(30 - into_step + 0.1)


def test_parallel_verification_of_one_code_succeeds_once(live_service, transactional_db):
    _clear_of_a_step_boundary()
    with live_service.client() as client:
        client.post(
            "/api/v1/auth/register",
            json={"email": "par@example.com", "username": "parallel", "password": PASSWORD},
        )
        login_body = {"email": "parallel", "password": PASSWORD}
        access = client.post(LOGIN_URL, json=login_body).json()["access_token"]
        auth = {"Authorization": f"Bearer {access}"}
        enrolment = client.post(SETUP, json={"password": PASSWORD}, headers=auth).json()
        totp = pyotp.TOTP(totp_secret_from(enrolment))
        assert client.post(CONFIRM, json={"code": totp.now()}, headers=auth).status_code == 200
        tokens = [client.post(LOGIN_URL, json=login_body).json()["mfa_token"] for _ in range(2)]
    # The next step's code: accepted as one step of drift, and only once.
    code = totp.at(time.time() + 30)

    def verify(token: str) -> int:
        with live_service.client() as client:
            return client.post(VERIFY, json={"mfa_token": token, "code": code}).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(verify, tokens))

    assert statuses == [200, 401]
