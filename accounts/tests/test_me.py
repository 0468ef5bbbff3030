import pytest

from accounts.models import User
from accounts.tests.helpers import ME_URL, assert_envelope, bearer, login
from tenants.models import Tenant


@pytest.fixture
def auth(api_client, user):
    return bearer(login(api_client, user.email)["access_token"])


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
