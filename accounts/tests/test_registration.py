import re

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import REGISTER_URL, assert_envelope
from tenants.models import Tenant

VALID = {
    "email": "john@example.com",
    "username": "johndoe",
    "password": "SecurePass123",
    "first_name": "John",
    "last_name": "Doe",
}
PRODUCT_VALID = {
    "username": "johndoe",
    "name": "John Doe",
    "email": "john@example.com",
    "password": "SecurePass123",
    "user_type": "Personal",
    "about_me": "AI enthusiast and developer",
    "hobbies": "Programming, reading, hiking",
}


def test_register_creates_active_user_with_default_role(api_client, db):
    response = api_client.post(REGISTER_URL, VALID, format="json")

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


def test_register_v1_answers_documented_shape(api_client, db):
    response = api_client.post("/v1/users/register", PRODUCT_VALID, format="json")

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
        PRODUCT_VALID["about_me"],
        PRODUCT_VALID["hobbies"],
        "Personal",
    )


def test_register_v1_reports_verification_when_enabled(api_client, db, settings):
    settings.EMAIL_VERIFICATION_ENABLED = True

    response = api_client.post("/v1/users/register", PRODUCT_VALID, format="json")

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
    response = api_client.post("/v1/users/register", {**PRODUCT_VALID, field: value}, format="json")

    body = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert any(error.startswith(f"{fragment}:") for error in body["errors"]), body
    assert not User.objects.exists()


@pytest.mark.parametrize("missing", ["email", "username", "password", "name"])
def test_register_v1_requires_field(api_client, db, missing):
    data = {key: value for key, value in PRODUCT_VALID.items() if key != missing}

    body = assert_envelope(api_client.post("/v1/users/register", data, format="json"), 400)

    assert f"{missing}: This field is required." in body["errors"]


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
    response = api_client.post(REGISTER_URL, {**VALID, "password": password}, format="json")

    body = assert_envelope(response, 400, "WEAK_PASSWORD")
    joined = " ".join(body["errors"])
    for fragment in expected:
        assert fragment in joined, body["errors"]
    assert len(body["errors"]) >= len(expected)


def test_register_rejects_password_similar_to_username(api_client, db):
    data = {**VALID, "username": "Superman2024", "password": "Superman2024"}

    body = assert_envelope(api_client.post(REGISTER_URL, data, format="json"), 400, "WEAK_PASSWORD")

    assert any("similar" in error for error in body["errors"])


def test_register_rejects_common_password(api_client, db):
    body = assert_envelope(
        api_client.post(REGISTER_URL, {**VALID, "password": "Password123"}, format="json"), 400
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

    response = api_client.post(REGISTER_URL, {**VALID, field: attempt}, format="json")

    assert_envelope(response, 409, "USER_EXISTS")
    assert User.objects.count() == 1


def test_register_v1_duplicate_is_conflict(api_client, db):
    UserFactory(email="john@example.com")

    assert_envelope(api_client.post("/v1/users/register", PRODUCT_VALID, format="json"), 409)


@pytest.mark.parametrize("url", [REGISTER_URL, "/v1/users/register"])
def test_register_closed_when_registration_disabled(api_client, db, settings, url):
    settings.USER_REGISTRATION_ENABLED = False

    response = api_client.post(url, {**VALID, **PRODUCT_VALID}, format="json")

    assert_envelope(response, 403, "REGISTRATION_DISABLED")
    assert not User.objects.exists()


def test_register_with_tenant_joins_it_when_the_tenant_is_open(api_client, db):
    tenant = Tenant.objects.create(name="Acme", slug="acme", settings={"self_registration": True})

    response = api_client.post(REGISTER_URL, {**VALID, "tenant_id": tenant.pk}, format="json")

    assert response.status_code == 201
    assert response.json()["tenant_id"] == tenant.pk


@pytest.mark.parametrize("active", [True, False])
def test_register_with_unknown_or_inactive_tenant_is_refused(api_client, db, active):
    tenant = Tenant.objects.create(name="Gone", slug="gone", is_active=active)
    tenant_id = tenant.pk + 100 if active else tenant.pk

    response = api_client.post(REGISTER_URL, {**VALID, "tenant_id": tenant_id}, format="json")

    assert_envelope(response, 400, "UNKNOWN_TENANT")
    assert not User.objects.exists()


def test_register_ignores_privileged_fields(api_client, db):
    data = {**VALID, "is_staff": True, "is_superuser": True, "status": "pending", "role": "admin"}

    response = api_client.post(REGISTER_URL, data, format="json")

    user = User.objects.get(pk=response.json()["id"])
    assert (user.is_staff, user.is_superuser, user.status, user.role.name) == (
        False,
        False,
        "active",
        "user",
    )
