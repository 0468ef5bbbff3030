from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import LoginSession, User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import LOGIN_URL, assert_envelope, login
from tenants.models import Tenant


@pytest.mark.parametrize("identifier", ["Ada@Example.com", "ada@example.com", "ADA", "ada"])
def test_login_by_email_or_username_in_any_case(api_client, db, identifier):
    UserFactory(username="ada", email="ada@example.com")

    body = login(api_client, identifier)

    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 60
    assert body["user"]["username"] == "ada"


def test_login_accepts_username_field(api_client, db):
    UserFactory(username="ada")

    response = api_client.post(
        LOGIN_URL, {"username": "ada", "password": "SecurePass123"}, format="json"
    )

    assert response.status_code == 200


def test_login_records_a_session_with_client_details(api_client, db):
    user = UserFactory()

    body = api_client.post(
        LOGIN_URL,
        {"email": user.email, "password": "SecurePass123"},
        format="json",
        HTTP_USER_AGENT="pytest-agent/1.0",
        REMOTE_ADDR="203.0.113.9",
    ).json()

    session = LoginSession.objects.get(user=user)
    assert str(session.pk) == body["session_id"]
    assert session.ip_address == "203.0.113.9"
    assert session.user_agent == "pytest-agent/1.0"
    assert session.revoked_at is None
    assert AccessToken(body["access_token"])["sid"] == str(session.pk)
    assert RefreshToken(body["refresh_token"])["sid"] == str(session.pk)
    user.refresh_from_db()
    assert user.last_login is not None


def test_token_lifetimes_follow_settings_and_remember_me(api_client, db):
    user = UserFactory()
    before = timezone.now()

    normal = login(api_client, user.email)
    remembered = login(api_client, user.email, body={"remember_me": True})

    access_exp = AccessToken(normal["access_token"])["exp"]
    assert abs(access_exp - (before + timedelta(minutes=30)).timestamp()) < 5
    normal_refresh = RefreshToken(normal["refresh_token"])["exp"]
    assert abs(normal_refresh - (before + timedelta(days=7)).timestamp()) < 5
    long_refresh = RefreshToken(remembered["refresh_token"])["exp"]
    assert abs(long_refresh - (before + timedelta(days=30)).timestamp()) < 5


@pytest.mark.parametrize(
    "data",
    [
        {"email": "ghost@example.com", "password": "SecurePass123"},
        {"email": "real@example.com", "password": "WrongPass123"},
    ],
)
def test_login_failure_does_not_reveal_whether_account_exists(api_client, db, data):
    UserFactory(email="real@example.com")

    body = assert_envelope(
        api_client.post(LOGIN_URL, data, format="json"), 401, "INVALID_CREDENTIALS"
    )

    assert body["message"] == "Invalid credentials."
    assert not LoginSession.objects.exists()


@pytest.mark.parametrize(
    ("status", "code"),
    [(User.Status.SUSPENDED, "ACCOUNT_SUSPENDED"), (User.Status.PENDING, "ACCOUNT_PENDING")],
)
@pytest.mark.parametrize("url", [LOGIN_URL, "/v1/users/login"])
def test_login_of_inactive_account_is_forbidden_with_reason(api_client, db, status, code, url):
    user = UserFactory(status=status)

    response = api_client.post(
        url, {"email": user.email, "password": "SecurePass123"}, format="json"
    )

    assert_envelope(response, 403, code)
    assert not LoginSession.objects.exists()


def test_login_of_suspended_account_with_wrong_password_reveals_nothing(api_client, db):
    user = UserFactory(status=User.Status.SUSPENDED)

    response = api_client.post(
        LOGIN_URL, {"email": user.email, "password": "Nope12345"}, format="json"
    )

    assert_envelope(response, 401, "INVALID_CREDENTIALS")


def test_login_with_tenant_of_member_succeeds_and_other_tenant_fails(api_client, db):
    acme = Tenant.objects.create(name="Acme", slug="acme")
    other = Tenant.objects.create(name="Other", slug="other")
    user = UserFactory(tenant=acme)

    assert (
        login(api_client, user.email, body={"tenant_id": acme.pk})["user"]["tenant_id"] == acme.pk
    )
    response = api_client.post(
        LOGIN_URL,
        {"email": user.email, "password": "SecurePass123", "tenant_id": other.pk},
        format="json",
    )
    assert_envelope(response, 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize(
    "data",
    [{}, {"password": "SecurePass123"}, {"email": "a@b.c"}, {"email": "", "password": "x"}],
)
def test_login_validation_errors_are_400(api_client, db, data):
    assert_envelope(api_client.post(LOGIN_URL, data, format="json"), 400, "VALIDATION_ERROR")


def test_login_ignores_stale_authorization_header(api_client, db):
    user = UserFactory()

    response = api_client.post(
        LOGIN_URL,
        {"email": user.email, "password": "SecurePass123"},
        format="json",
        HTTP_AUTHORIZATION="Bearer not-a-token",
    )

    assert response.status_code == 200


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
