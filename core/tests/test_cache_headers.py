"""Answers that carry tokens or secrets, and API answers in general, are never stored."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.helpers import (
    LOGIN_URL,
    PASSWORD,
    REFRESH_URL,
    SETUP,
    bearer,
    enrol,
    login,
    password_step,
)


def assert_not_stored(response) -> None:
    assert "no-store" in response.get("Cache-Control", ""), (response.status_code, response)


@pytest.mark.parametrize(
    ("login_url", "refresh_url"),
    [(LOGIN_URL, REFRESH_URL), ("/v1/users/login", "/v1/users/refresh")],
)
def test_login_and_refresh_answers_are_not_stored(api_client, user, login_url, refresh_url):
    logged_in = api_client.post(
        login_url, {"email": user.email, "password": PASSWORD}, format="json"
    )
    refresh_token = (
        logged_in.json().get("refresh_token") or logged_in.json()["session"]["refresh_token"]
    )
    refreshed = api_client.post(refresh_url, {"refresh_token": refresh_token}, format="json")
    refused = api_client.post(
        login_url, {"email": user.email, "password": "Wrong1x"}, format="json"
    )

    assert (logged_in.status_code, refreshed.status_code, refused.status_code) == (200, 200, 401)
    for response in (logged_in, refreshed, refused):
        assert_not_stored(response)


@pytest.mark.parametrize("url", ["/api/v1/auth/mfa/verify", "/v1/users/login/mfa"])
def test_the_mfa_step_answer_is_not_stored(api_client, user, url):
    totp, _ = enrol(api_client, user)
    with time_machine.travel(timezone.now() + timedelta(seconds=90), tick=True):
        challenge = password_step(api_client, user)
        verified = api_client.post(
            url, {"mfa_token": challenge["mfa_token"], "code": totp.now()}, format="json"
        )

    assert verified.status_code == 200
    assert_not_stored(verified)


def test_secret_bearing_answers_are_not_stored(api_client, user):
    auth = bearer(login(api_client, user.email)["access_token"])

    answers = [
        api_client.post(SETUP, {"password": PASSWORD}, format="json", **auth),
        api_client.post("/api/v1/api-keys", {"name": "ci"}, format="json", **auth),
        api_client.post("/v1/users/api-key/regenerate", **auth),
        api_client.post(
            "/api/v1/auth/change-password",
            {"current_password": PASSWORD, "new_password": "AnotherPass456"},
            format="json",
            **auth,
        ),
    ]

    assert [answer.status_code for answer in answers] == [200, 201, 200, 200]
    for answer in answers:
        assert_not_stored(answer)
