"""/api/v1/auth register, login, refresh, logout, change-password and /api/v1/users/me."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import LoginSession, User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    LOGIN_URL,
    LOGOUT_URL,
    ME_URL,
    PASSWORD,
    REGISTER_URL,
    REGISTRATION,
    V1_REGISTRATION,
    assert_envelope,
    bearer,
    login,
    post_refresh,
    token_in,
)
from tenants.models import Tenant


def test_registration_sends_a_verification_email_when_enabled(
    api_client, db, settings, mailoutbox, send_mail_now
):
    settings.EMAIL_VERIFICATION_ENABLED = True
    body = {"email": "v@example.com", "username": "verifier", "password": PASSWORD}

    send_mail_now(lambda: api_client.post(REGISTER_URL, body, format="json"))
    verified = api_client.post(
        "/api/v1/auth/verify-email", {"token": token_in(mailoutbox[0])}, format="json"
    )
    reused = api_client.post(
        "/api/v1/auth/verify-email", {"token": token_in(mailoutbox[0])}, format="json"
    )

    assert mailoutbox[0].to == ["v@example.com"]
    assert verified.status_code == 200
    assert User.objects.get(username="verifier").is_verified
    assert_envelope(reused, 400, "INVALID_TOKEN")


def test_no_verification_email_when_disabled(api_client, db, mailoutbox, send_mail_now):
    body = {"email": "v@example.com", "username": "verifier", "password": PASSWORD}

    send_mail_now(lambda: api_client.post(REGISTER_URL, body, format="json"))

    assert mailoutbox == []


@pytest.mark.parametrize(
    ("method", "url"), [("delete", "/v1/users/account"), ("delete", "/api/v1/users/me")]
)
def test_deletion_needs_password_and_stops_tokens_at_once(api_client, user, method, url):
    tokens = login(api_client, user.email)
    auth = bearer(tokens["access_token"])

    wrong = getattr(api_client, method)(url, {"password": "Nope12345"}, format="json", **auth)
    right = getattr(api_client, method)(url, {"password": PASSWORD}, format="json", **auth)

    assert_envelope(wrong, 400, "INVALID_CURRENT_PASSWORD")
    assert right.status_code == 200
    assert_envelope(api_client.get(ME_URL, **auth), 401)
    relogin = api_client.post(LOGIN_URL, {"email": user.email, "password": PASSWORD}, format="json")
    assert_envelope(relogin, 403, "ACCOUNT_DELETED")


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


def test_me_returns_the_callers_account(api_client, user, auth):
    body = api_client.get(ME_URL, **auth).json()

    assert body["id"] == user.pk
    assert body["email"] == user.email
    assert body["role"] == "user"
    assert "password" not in body


@pytest.mark.parametrize("method", ["put", "patch"])
def test_me_updates_profile_fields(api_client, user, auth, method):
    response = getattr(api_client, method)(
        ME_URL,
        {
            "first_name": "Updated Name",
            "about_me": "Builds agents",
            "preferences": {"theme": "dark"},
        },
        format="json",
        **auth,
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.first_name == "Updated Name"
    assert user.about_me == "Builds agents"
    assert user.preferences == {"theme": "dark"}


def test_me_preferences_merge_key_by_key(api_client, user, auth):
    api_client.patch(
        ME_URL, {"preferences": {"theme": "dark", "language": "en"}}, format="json", **auth
    )

    api_client.patch(ME_URL, {"preferences": {"theme": "light"}}, format="json", **auth)

    user.refresh_from_db()
    assert user.preferences == {"theme": "light", "language": "en"}


def test_me_patch_cannot_mass_assign_protected_fields(api_client, user, auth):
    tenant = Tenant.objects.create(name="Other", slug="other")
    before = User.objects.values(
        "is_staff",
        "is_superuser",
        "role",
        "status",
        "tenant",
        "subscription_plan",
        "is_verified",
        "email",
        "username",
        "password",
    ).get(pk=user.pk)

    response = api_client.patch(
        ME_URL,
        {
            "is_staff": True,
            "is_superuser": True,
            "role": "admin",
            "role_id": 1,
            "status": "suspended",
            "tenant": tenant.pk,
            "tenant_id": tenant.pk,
            "subscription_plan": "premium",
            "is_verified": False,
            "email": "new@example.com",
            "username": "hijack",
            "password": "NewPass12345",
        },
        format="json",
        **auth,
    )

    assert response.status_code == 200
    after = User.objects.values(*before.keys()).get(pk=user.pk)
    assert after == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "J"}, "name"),
        ({"user_type": "Enterprise"}, "user_type"),
        ({"preferences": "dark"}, "preferences"),
        ({"about_me": "x" * 2001}, "about_me"),
    ],
)
def test_me_update_validation_errors(api_client, user, auth, data, field):
    body = assert_envelope(
        api_client.patch(ME_URL, data, format="json", **auth), 400, "VALIDATION_ERROR"
    )

    assert any(error.startswith(f"{field}:") for error in body["errors"])


def test_register_creates_active_user_with_default_role(api_client, db):
    response = api_client.post(REGISTER_URL, REGISTRATION, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "john@example.com"
    assert body["username"] == "johndoe"
    assert body["name"] == "John Doe"
    assert body["role"] == "user"
    assert body["status"] == "active"
    assert "password" not in body
    user = User.objects.get(pk=body["id"])
    assert user.check_password("SecurePass123")
    assert user.password.startswith("bcrypt_sha256$")


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short1A", ["too short"]),
        ("alllowercase1", ["upper-case"]),
        ("ALLUPPERCASE1", ["lower-case"]),
        ("NoDigitsHere", ["digit"]),
        ("abc", ["too short", "upper-case", "digit"]),
    ],
)
def test_register_lists_every_failed_password_rule(api_client, db, password, expected):
    response = api_client.post(REGISTER_URL, {**REGISTRATION, "password": password}, format="json")

    body = assert_envelope(response, 400, "WEAK_PASSWORD")
    joined = " ".join(body["errors"])
    for fragment in expected:
        assert fragment in joined, body["errors"]
    assert len(body["errors"]) >= len(expected)


def test_register_rejects_password_similar_to_username(api_client, db):
    data = {**REGISTRATION, "username": "Superman2024", "password": "Superman2024"}

    body = assert_envelope(api_client.post(REGISTER_URL, data, format="json"), 400, "WEAK_PASSWORD")

    assert any("similar" in error for error in body["errors"])


def test_register_rejects_common_password(api_client, db):
    body = assert_envelope(
        api_client.post(REGISTER_URL, {**REGISTRATION, "password": "Password123"}, format="json"),
        400,
    )

    assert any("too common" in error for error in body["errors"])


@pytest.mark.parametrize(
    ("field", "taken", "attempt"),
    [
        ("email", "john@example.com", "JOHN@Example.COM"),
        ("username", "JohnDoe", "johndoe"),
        ("username", "johndoe", "JOHNDOE"),
    ],
)
def test_register_duplicate_in_other_letter_case_is_conflict(api_client, db, field, taken, attempt):
    UserFactory(**{field: taken})

    response = api_client.post(REGISTER_URL, {**REGISTRATION, field: attempt}, format="json")

    assert_envelope(response, 409, "USER_EXISTS")
    assert User.objects.count() == 1


@pytest.mark.parametrize("url", [REGISTER_URL, "/v1/users/register"])
def test_register_closed_when_registration_disabled(api_client, db, settings, url):
    settings.USER_REGISTRATION_ENABLED = False

    response = api_client.post(url, {**REGISTRATION, **V1_REGISTRATION}, format="json")

    assert_envelope(response, 403, "REGISTRATION_DISABLED")
    assert not User.objects.exists()


def test_register_with_tenant_joins_it_when_the_tenant_is_open(api_client, db):
    tenant = Tenant.objects.create(name="Acme", slug="acme", settings={"self_registration": True})

    response = api_client.post(
        REGISTER_URL, {**REGISTRATION, "tenant_id": tenant.pk}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["tenant_id"] == tenant.pk


@pytest.mark.parametrize("active", [True, False])
def test_register_with_unknown_or_inactive_tenant_is_refused(api_client, db, active):
    tenant = Tenant.objects.create(name="Gone", slug="gone", is_active=active)
    tenant_id = tenant.pk + 100 if active else tenant.pk

    response = api_client.post(
        REGISTER_URL, {**REGISTRATION, "tenant_id": tenant_id}, format="json"
    )

    assert_envelope(response, 400, "UNKNOWN_TENANT")
    assert not User.objects.exists()


def test_register_ignores_privileged_fields(api_client, db):
    data = {
        **REGISTRATION,
        "is_staff": True,
        "is_superuser": True,
        "status": "pending",
        "role": "admin",
    }

    response = api_client.post(REGISTER_URL, data, format="json")

    user = User.objects.get(pk=response.json()["id"])
    assert (user.is_staff, user.is_superuser, user.status, user.role.name) == (
        False,
        False,
        "active",
        "user",
    )


def test_refresh_rotates_and_the_new_pair_works(api_client, logged_in):
    _, tokens = logged_in

    response = post_refresh(api_client, tokens["refresh_token"])

    assert response.status_code == 200
    rotated = response.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["session_id"] == tokens["session_id"]
    assert api_client.get(ME_URL, **bearer(rotated["access_token"])).status_code == 200
    old_jti = RefreshToken(tokens["refresh_token"], verify=False)["jti"]
    new_jti = RefreshToken(rotated["refresh_token"], verify=False)["jti"]
    # The session row is the one record of the live refresh token.
    assert LoginSession.objects.get(pk=tokens["session_id"]).refresh_jti == new_jti != old_jti


def test_reusing_rotated_refresh_token_revokes_whole_session(api_client, logged_in):
    _, tokens = logged_in
    rotated = post_refresh(api_client, tokens["refresh_token"]).json()

    reuse = post_refresh(api_client, tokens["refresh_token"])

    assert_envelope(reuse, 401, "REFRESH_TOKEN_REUSED")
    session = LoginSession.objects.get(pk=tokens["session_id"])
    assert session.revoked_reason == LoginSession.RevokeReason.REFRESH_REUSE
    assert_envelope(
        api_client.get(ME_URL, **bearer(rotated["access_token"])), 401, "SESSION_REVOKED"
    )
    assert_envelope(post_refresh(api_client, rotated["refresh_token"]), 401, "INVALID_TOKEN")


@pytest.mark.parametrize("url", [LOGOUT_URL, "/v1/users/logout"])
def test_access_token_refused_right_after_logout(api_client, logged_in, url):
    _, tokens = logged_in
    auth = bearer(tokens["access_token"])
    assert api_client.get(ME_URL, **auth).status_code == 200

    assert api_client.post(url, **auth).status_code == 200

    assert_envelope(api_client.get(ME_URL, **auth), 401, "SESSION_REVOKED")
    assert_envelope(post_refresh(api_client, tokens["refresh_token"]), 401)


def test_logout_ends_only_the_current_session(api_client, user):
    first = login(api_client, user.email)
    second = login(api_client, user.email)

    api_client.post(LOGOUT_URL, **bearer(first["access_token"]))

    assert api_client.get(ME_URL, **bearer(second["access_token"])).status_code == 200


@pytest.mark.parametrize(
    ("url", "method", "body"),
    [
        ("/api/v1/auth/change-password", "post", {"current_password": "SecurePass123"}),
        ("/api/v1/users/me/change-password", "post", {"current_password": "SecurePass123"}),
        ("/v1/users/password", "put", {"current_password": "SecurePass123"}),
    ],
)
def test_password_change_revokes_every_session_and_returns_a_new_one(
    api_client, user, url, method, body
):
    first = login(api_client, user.email)
    other = login(api_client, user.email)

    response = getattr(api_client, method)(
        url,
        {**body, "new_password": "BrandNewPass456"},
        format="json",
        **bearer(first["access_token"]),
    )

    assert response.status_code == 200, response.json()
    for old in (first, other):
        assert_envelope(
            api_client.get(ME_URL, **bearer(old["access_token"])), 401, "SESSION_REVOKED"
        )
        assert_envelope(post_refresh(api_client, old["refresh_token"]), 401)
    new_access = response.json().get("access_token") or response.json()["session"]["session_token"]
    assert api_client.get(ME_URL, **bearer(new_access)).status_code == 200
    user.refresh_from_db()
    assert user.check_password("BrandNewPass456")
    assert login(api_client, user.email, "BrandNewPass456")


def test_password_change_with_wrong_current_password_changes_nothing(api_client, logged_in):
    user, tokens = logged_in

    response = api_client.post(
        "/api/v1/auth/change-password",
        {"current_password": "WrongPass999", "new_password": "BrandNewPass456"},
        format="json",
        **bearer(tokens["access_token"]),
    )

    assert_envelope(response, 400, "INVALID_CURRENT_PASSWORD")
    user.refresh_from_db()
    assert user.check_password("SecurePass123")
    assert api_client.get(ME_URL, **bearer(tokens["access_token"])).status_code == 200


def test_password_change_checks_policy(api_client, logged_in):
    _, tokens = logged_in

    response = api_client.post(
        "/api/v1/auth/change-password",
        {"current_password": "SecurePass123", "new_password": "weak"},
        format="json",
        **bearer(tokens["access_token"]),
    )

    body = assert_envelope(response, 400, "WEAK_PASSWORD")
    assert len(body["errors"]) >= 3
