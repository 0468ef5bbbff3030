"""/api/v1/tenants: create with a first admin, edit, deactivate, reactivate."""

import pytest

from accounts.models import LoginSession, User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    LOGIN_URL,
    ME_URL,
    assert_envelope,
    bearer,
    login,
)
from security.models import AuditAction
from security.tests.helpers import audit_row
from tenants.models import Tenant

TENANT_BODY = {
    "name": "Company Name",
    "description": "Company description",
    "domain": "company.com",
    "admin_email": "admin@company.com",
    "admin_username": "admin",
    "admin_password": "AdminPass123",
    "admin_first_name": "Admin",
    "admin_last_name": "User",
}


def test_create_tenant_with_its_first_admin(api_client, world):
    response = api_client.post(
        "/api/v1/tenants", TENANT_BODY, format="json", **world.auth("platform_admin")
    )

    assert response.status_code == 201
    body = response.json()
    tenant = Tenant.objects.get(slug="company-name")
    admin = User.objects.get(username="admin")
    assert body["tenant"]["id"] == tenant.pk and body["admin"]["id"] == admin.pk
    assert (admin.tenant_id, admin.role.name, admin.name) == (tenant.pk, "admin", "Admin User")
    assert body["tenant"]["settings"]["self_registration"] is False
    assert login(api_client, "admin", "AdminPass123")["user"]["tenant_id"] == tenant.pk
    audit_row(action=AuditAction.TENANT_CREATE)
    audit_row(action=AuditAction.USER_CREATE)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"admin_password": "weak"}, 400),
        ({"admin_email": "not-an-email"}, 400),
    ],
)
def test_tenant_and_admin_are_created_both_or_neither(api_client, world, change, status):
    response = api_client.post(
        "/api/v1/tenants", {**TENANT_BODY, **change}, format="json", **world.auth("platform_admin")
    )

    assert_envelope(response, status)
    assert not Tenant.objects.filter(slug="company-name").exists()
    assert not User.objects.filter(username="admin").exists()


def test_admin_username_clash_rolls_the_tenant_back(api_client, world):
    UserFactory(username="admin")

    response = api_client.post(
        "/api/v1/tenants", TENANT_BODY, format="json", **world.auth("platform_admin")
    )

    assert_envelope(response, 409, "USER_EXISTS")
    assert not Tenant.objects.filter(slug="company-name").exists()


def test_duplicate_tenant_is_409(api_client, world):
    auth = world.auth("platform_admin")
    api_client.post("/api/v1/tenants", TENANT_BODY, format="json", **auth)

    response = api_client.post(
        "/api/v1/tenants",
        {**TENANT_BODY, "admin_username": "admin2", "admin_email": "x2@company.com"},
        format="json",
        **auth,
    )

    assert_envelope(response, 409, "TENANT_EXISTS")


def test_tenant_admin_edits_own_settings(api_client, world):
    response = api_client.patch(
        f"/api/v1/tenants/{world.tenant_a.pk}",
        {"settings": {"self_registration": False, "allowed_email_domains": ["@Acme.example"]}},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert response.status_code == 200
    assert response.json()["settings"]["allowed_email_domains"] == ["acme.example"]


def test_unknown_tenant_setting_is_400(api_client, world):
    response = api_client.patch(
        f"/api/v1/tenants/{world.tenant_a.pk}",
        {"settings": {"colour": "red"}},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert_envelope(response, 400, "INVALID_SETTINGS")


@pytest.mark.parametrize(
    "default_credits",
    [
        {"limits": {"conversation_limit": -1}},
        {"limits": "lots"},
        {"credits": {"main": "abc"}},
        {"credits": {"main": 10**12}},
        {"credits": {"main": 5, "bonus": 1}},
        {"plans": {}},
        ["credits"],
    ],
)
def test_tenant_default_credits_are_checked(api_client, world, default_credits):
    response = api_client.patch(
        f"/api/v1/tenants/{world.tenant_a.pk}",
        {"settings": {"default_credits": default_credits}},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert response.status_code == 400
    world.tenant_a.refresh_from_db()
    assert "default_credits" not in world.tenant_a.settings


def test_new_members_get_the_tenant_default_credits(api_client, world):
    defaults = {"credits": {"main": 7, "reset": 7}, "limits": {"conversation_limit": 3, "reset": 3}}
    response = api_client.patch(
        f"/api/v1/tenants/{world.tenant_a.pk}",
        {"settings": {"default_credits": defaults}},
        format="json",
        **world.auth("tenant_admin"),
    )
    member = UserFactory(tenant=world.tenant_a)
    auth = bearer(login(api_client, member.email)["access_token"])

    assert response.status_code == 200
    balance = api_client.get("/api/v1/users/me/credits", **auth).json()
    assert (balance["credits"], balance["limits"]) == (defaults["credits"], defaults["limits"])


def test_a_partial_tenant_default_keeps_the_global_value_for_what_it_leaves_out(
    api_client, world, settings
):
    settings.DEFAULT_USER_LIMITS = {"conversation_limit": 10, "reset": 10}
    api_client.patch(
        f"/api/v1/tenants/{world.tenant_a.pk}",
        {"settings": {"default_credits": {"limits": {"conversation_limit": 3}}}},
        format="json",
        **world.auth("tenant_admin"),
    )
    member = UserFactory(tenant=world.tenant_a)
    auth = bearer(login(api_client, member.email)["access_token"])

    limits = api_client.get("/api/v1/users/me/credits", **auth).json()["limits"]

    assert limits == {"conversation_limit": 3, "reset": 10}


def test_a_bad_default_stored_before_it_was_checked_falls_back_to_the_global_one(
    api_client, world, settings
):
    settings.DEFAULT_USER_LIMITS = {"conversation_limit": 4, "reset": 4}
    world.tenant_a.settings = {"default_credits": {"limits": {"conversation_limit": -1}}}
    world.tenant_a.save()
    member = UserFactory(tenant=world.tenant_a)
    auth = bearer(login(api_client, member.email)["access_token"])

    response = api_client.get("/api/v1/users/me/credits", **auth)

    assert response.status_code == 200
    assert response.json()["limits"] == {"conversation_limit": 4, "reset": 4}


def test_deactivating_a_tenant_stops_logins_and_sessions_at_once(api_client, world):
    member = world.member
    tokens = login(api_client, member.email)

    response = api_client.delete(
        f"/api/v1/tenants/{world.tenant_a.pk}", **world.auth("platform_admin")
    )

    assert response.json()["is_active"] is False
    assert_envelope(api_client.get(ME_URL, **bearer(tokens["access_token"])), 401)
    relogin = api_client.post(
        LOGIN_URL, {"email": member.email, "password": "SecurePass123"}, format="json"
    )
    assert_envelope(relogin, 403, "TENANT_INACTIVE")
    assert not LoginSession.objects.filter(
        user__tenant=world.tenant_a, revoked_at__isnull=True
    ).exists()
    assert login(api_client, world.other_member.email)


def test_reactivating_lets_members_in_again(api_client, world):
    auth = world.auth("platform_admin")
    api_client.delete(f"/api/v1/tenants/{world.tenant_a.pk}", **auth)

    api_client.post(f"/api/v1/tenants/{world.tenant_a.pk}/activate", **auth)

    assert login(api_client, world.member.email)
