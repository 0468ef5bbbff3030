"""The /v1/users surface: register, login, refresh, profile, email, account."""

import re

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    PASSWORD,
    V1_REGISTRATION,
    assert_envelope,
    bearer,
    login,
    password_step,
    post_refresh,
    token_in,
)


def test_email_change_needs_the_password(api_client, user):
    auth = bearer(login(api_client, user.email)["access_token"])

    response = api_client.put(
        "/v1/users/email",
        {"email": "new@example.com", "password": "Nope12345"},
        format="json",
        **auth,
    )

    assert_envelope(response, 400, "INVALID_CURRENT_PASSWORD")


def test_email_change_clash_is_409(api_client, user):
    UserFactory(email="taken@example.com")
    auth = bearer(login(api_client, user.email)["access_token"])

    response = api_client.put(
        "/v1/users/email",
        {"email": "TAKEN@example.com", "password": PASSWORD},
        format="json",
        **auth,
    )

    assert_envelope(response, 409, "USER_EXISTS")


def test_email_change_applies_at_once_without_verification(api_client, user):
    auth = bearer(login(api_client, user.email)["access_token"])

    response = api_client.put(
        "/v1/users/email", {"email": "new@example.com", "password": PASSWORD}, format="json", **auth
    )

    assert response.json()["verification_required"] is False
    user.refresh_from_db()
    assert user.email == "new@example.com"


def test_email_change_waits_for_verification_when_enabled(
    api_client, user, settings, mailoutbox, send_mail_now
):
    settings.EMAIL_VERIFICATION_ENABLED = True
    auth = bearer(login(api_client, user.email)["access_token"])
    old = user.email

    send_mail_now(
        lambda: api_client.put(
            "/v1/users/email",
            {"email": "new@example.com", "password": PASSWORD},
            format="json",
            **auth,
        )
    )
    user.refresh_from_db()
    assert (user.email, user.pending_email) == (old, "new@example.com")
    assert mailoutbox[0].to == ["new@example.com"]

    api_client.post("/api/v1/auth/verify-email", {"token": token_in(mailoutbox[0])}, format="json")

    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("new@example.com", "")


def test_v1_login_answers_documented_shape(api_client, db):
    user = UserFactory(username="johndoe", name="John Doe", email="john@example.com")

    response = api_client.post(
        "/v1/users/login", {"email": "john@example.com", "password": "SecurePass123"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Login successful"
    assert body["user"] == {
        "id": user.pk,
        "username": "johndoe",
        "name": "John Doe",
        "email": "john@example.com",
        "user_type": "Personal",
        "subscription_plan": "free",
        "is_verified": True,
    }
    assert set(body["session"]) == {
        "session_token",
        "refresh_token",
        "expires_at",
        "refresh_expires_at",
    }
    assert body["session"]["expires_at"].endswith("Z")
    assert AccessToken(body["session"]["session_token"])["user_id"] == str(user.pk)


def test_v1_profile_get_and_put(api_client, user, auth):
    updated = api_client.put(
        "/v1/users/profile",
        {"name": "John Smith", "about_me": "Updated bio", "hobbies": "AI, Machine Learning"},
        format="json",
        **auth,
    )
    fetched = api_client.get("/v1/users/profile", **auth)

    assert updated.status_code == 200
    body = fetched.json()
    assert body["success"] is True
    assert body["user"]["name"] == "John Smith"
    assert body["user"]["about_me"] == "Updated bio"
    assert body["user"]["hobbies"] == "AI, Machine Learning"
    assert body["user"]["id"] == user.pk


def test_v1_profile_requires_authentication(api_client, db):
    assert_envelope(api_client.get("/v1/users/profile"), 401)


def test_product_verify_answers_product_shape(api_client, enrolled):
    user, totp, _ = enrolled
    first = password_step(api_client, user, "/v1/users/login")

    response = api_client.post(
        "/v1/users/login/mfa", {"mfa_token": first["mfa_token"], "code": totp.now()}, format="json"
    )

    assert response.json()["success"] is True
    assert set(response.json()["session"]) >= {"session_token", "refresh_token"}


def test_register_v1_answers_documented_shape(api_client, db):
    response = api_client.post("/v1/users/register", V1_REGISTRATION, format="json")

    assert response.status_code == 201
    body = response.json()
    user = User.objects.get(username="johndoe")
    api_key = body.pop("api_key")
    assert re.fullmatch(r"pe-[A-Za-z0-9_-]{32}", api_key)
    assert body == {
        "success": True,
        "message": "User registered successfully",
        "user_id": user.pk,
        "username": "johndoe",
        "email": "john@example.com",
        "verification_required": False,
    }
    assert (user.about_me, user.hobbies, user.user_type) == (
        V1_REGISTRATION["about_me"],
        V1_REGISTRATION["hobbies"],
        "Personal",
    )


def test_register_v1_reports_verification_when_enabled(api_client, db, settings):
    settings.EMAIL_VERIFICATION_ENABLED = True

    response = api_client.post("/v1/users/register", V1_REGISTRATION, format="json")

    assert response.json()["verification_required"] is True
    assert User.objects.get(username="johndoe").is_verified is False


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("email", "not-an-email", "email"),
        ("username", "ab", "username"),
        ("username", "x" * 51, "username"),
        ("username", "john doe", "username"),
        ("username", "john@doe", "username"),
        ("name", "J", "name"),
        ("name", "J" * 101, "name"),
        ("user_type", "Enterprise", "user_type"),
    ],
)
def test_register_v1_rejects_invalid_field(api_client, db, field, value, fragment):
    response = api_client.post(
        "/v1/users/register", {**V1_REGISTRATION, field: value}, format="json"
    )

    body = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert any(error.startswith(f"{fragment}:") for error in body["errors"]), body
    assert not User.objects.exists()


@pytest.mark.parametrize("missing", ["email", "username", "password", "name"])
def test_register_v1_requires_field(api_client, db, missing):
    data = {key: value for key, value in V1_REGISTRATION.items() if key != missing}

    body = assert_envelope(api_client.post("/v1/users/register", data, format="json"), 400)

    assert f"{missing}: This field is required." in body["errors"]


def test_register_v1_duplicate_is_conflict(api_client, db):
    UserFactory(email="john@example.com")

    assert_envelope(api_client.post("/v1/users/register", V1_REGISTRATION, format="json"), 409)


def test_v1_refresh_answers_session_shape(api_client, logged_in):
    _, tokens = logged_in

    response = post_refresh(api_client, tokens["refresh_token"], "/v1/users/refresh")

    body = response.json()
    assert response.status_code == 200
    assert body["success"] is True
    assert set(body["session"]) == {
        "session_token",
        "refresh_token",
        "expires_at",
        "refresh_expires_at",
    }
