"""POST /v1/admin-panel/create-admin and the super-admin-only deletion of users."""

import pytest

from accounts.models import User
from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope
from accounts.tests.world import build_world, builtin
from credits.models import CreditAccount
from security.models import AuditAction, SecurityEvent
from security.tests.helpers import audit_row

CREATE = "/v1/admin-panel/create-admin"
NEW_ADMIN = {
    "username": "ops2",
    "email": "Ops2@Example.com",
    "name": "Second Operator",
    "password": "AdminPass123",
}


@pytest.fixture
def world(db):
    world = build_world()
    world.users["staff_admin"] = UserFactory(
        username="ops", email="ops@example.com", is_staff=True, role=builtin("admin")
    )
    return world


def auth_of(user) -> dict:
    pair = session_start(user=user, client=ClientInfo("127.0.0.1", "tests"), mfa_verified=True)
    return {"HTTP_AUTHORIZATION": f"Bearer {pair.access}"}


def test_a_super_admin_creates_a_platform_admin(api_client, world):
    root = world.users["platform_admin"]

    response = api_client.post(CREATE, NEW_ADMIN, format="json", **auth_of(root))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["success"] is True and body["super_admin"] is False
    assert body["user"]["username"] == "ops2"
    created = User.objects.get(username="ops2")
    assert created.email == "ops2@example.com"
    assert created.is_active and created.is_verified and created.is_staff
    assert not created.is_superuser
    assert created.tenant_id is None and created.role_name == "admin"
    assert created.is_platform_admin
    assert created.check_password("AdminPass123")
    assert CreditAccount.objects.filter(user=created).exists()
    row = audit_row(action=AuditAction.PLATFORM_ADMIN_CREATE, target_id=str(created.pk))
    assert row.actor_id == root.pk
    assert "password" not in row.changes
    # The new admin can log in to the panel.
    login = api_client.post(
        "/v1/admin-panel/login", {"username": "ops2", "password": "AdminPass123"}, format="json"
    )
    assert login.status_code == 200, login.content


def test_a_super_admin_may_create_a_super_admin(api_client, world):
    response = api_client.post(
        CREATE, {**NEW_ADMIN, "super_admin": True}, format="json", **world.auth("platform_admin")
    )

    assert response.status_code == 201, response.content
    assert response.json()["super_admin"] is True
    assert User.objects.get(username="ops2").is_superuser


def test_a_plain_platform_admin_may_not_create_admins(api_client, world):
    staff = world.users["staff_admin"]

    response = api_client.post(
        CREATE, {**NEW_ADMIN, "super_admin": True}, format="json", **auth_of(staff)
    )

    assert_envelope(response, 403)
    assert not User.objects.filter(username="ops2").exists()
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.PERMISSION_DENIED, user_id=staff.pk
    ).exists()


@pytest.mark.parametrize("actor", ["user", "moderator", "tenant_admin", "admin_without_mfa"])
def test_nobody_else_may_create_admins(api_client, world, settings, actor):
    settings.ADMIN_REQUIRE_MFA = True

    response = api_client.post(CREATE, NEW_ADMIN, format="json", **world.auth(actor))

    assert_envelope(response, 403)
    assert not User.objects.filter(username="ops2").exists()


def test_anonymous_is_401(api_client, world):
    assert_envelope(api_client.post(CREATE, NEW_ADMIN, format="json"), 401)


def test_a_weak_password_is_refused_by_the_policy(api_client, world):
    response = api_client.post(
        CREATE, {**NEW_ADMIN, "password": "weakpass"}, format="json", **world.auth("platform_admin")
    )

    assert_envelope(response, 400, "WEAK_PASSWORD")
    assert not User.objects.filter(username="ops2").exists()


@pytest.mark.parametrize(
    "clash", [{"username": "ROOT"}, {"email": "MEMBER_A@example.com"}], ids=["username", "email"]
)
def test_a_taken_username_or_email_is_409(api_client, world, clash):
    world.member.email = "member_a@example.com"
    world.member.save(update_fields=["email"])

    response = api_client.post(
        CREATE, {**NEW_ADMIN, **clash}, format="json", **world.auth("platform_admin")
    )

    assert_envelope(response, 409, "USER_EXISTS")


@pytest.mark.parametrize(
    "body",
    [
        {k: v for k, v in NEW_ADMIN.items() if k != "password"},
        {**NEW_ADMIN, "username": "a b"},
        {**NEW_ADMIN, "email": "not-an-email"},
        {**NEW_ADMIN, "name": "x"},
        {**NEW_ADMIN, "super_admin": "maybe"},
    ],
    ids=["no password", "bad username", "bad email", "short name", "bad flag"],
)
def test_a_bad_body_is_400(api_client, world, body):
    response = api_client.post(CREATE, body, format="json", **world.auth("platform_admin"))

    assert_envelope(response, 400)
    assert not User.objects.filter(username="ops2").exists()


# ----- deleting users needs a super admin ------------------------------------------


@pytest.mark.parametrize(
    "url", ["/v1/admin-panel/users/{id}?reason=policy", "/api/v1/users/{id}?reason=policy"]
)
def test_a_super_admin_deletes_a_user(api_client, world, url):
    response = api_client.delete(
        url.format(id=world.member.pk), **auth_of(world.users["platform_admin"])
    )

    assert response.status_code == 200, response.content
    assert User.objects.get(pk=world.member.pk).status == User.Status.DELETED


@pytest.mark.parametrize(
    "url", ["/v1/admin-panel/users/{id}?reason=policy", "/api/v1/users/{id}?reason=policy"]
)
def test_a_plain_platform_admin_may_not_delete_users(api_client, world, url):
    staff = world.users["staff_admin"]

    response = api_client.delete(url.format(id=world.member.pk), **auth_of(staff))

    assert_envelope(response, 403)
    assert User.objects.get(pk=world.member.pk).status == User.Status.ACTIVE


def test_a_plain_platform_admin_still_edits_users(api_client, world):
    response = api_client.patch(
        f"/v1/admin-panel/users/{world.member.pk}",
        {"subscription_plan": "premium"},
        format="json",
        **auth_of(world.users["staff_admin"]),
    )

    assert response.status_code == 200, response.content


def test_a_tenant_admin_still_deletes_inside_their_tenant(api_client, world):
    response = api_client.delete(
        f"/api/v1/users/{world.member.pk}?reason=policy", **world.auth("tenant_admin")
    )

    assert response.status_code == 200, response.content
    assert User.objects.get(pk=world.member.pk).status == User.Status.DELETED
    other = api_client.delete(
        f"/api/v1/users/{world.other_member.pk}", **world.auth("tenant_admin")
    )
    assert_envelope(other, 404)
