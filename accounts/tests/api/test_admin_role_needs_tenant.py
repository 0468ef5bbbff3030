"""The built-in admin role is given only inside a tenant: without one it would make
a platform admin, and those come only from `createsuperuser`. Every way of giving
a role refuses it with 400 ADMIN_ROLE_NEEDS_TENANT and changes nothing."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope
from accounts.tests.world import builtin

NEW_ACCOUNT = {"email": "new@example.com", "username": "newbie", "password": "SecurePass123"}


@pytest.fixture
def admin_auth(world) -> dict:
    return world.auth("platform_admin")


@pytest.fixture
def tenantless(db):
    return UserFactory(username="loner", tenant=None, role=builtin("user"))


def _role_of(user) -> str:
    user.refresh_from_db()
    return user.role.name


def test_creating_an_admin_without_a_tenant_is_refused(api_client, admin_auth):
    response = api_client.post(
        "/api/v1/users", {**NEW_ACCOUNT, "role": "admin"}, format="json", **admin_auth
    )

    assert_envelope(response, 400, "ADMIN_ROLE_NEEDS_TENANT")
    assert not User.objects.filter(username="newbie").exists()


def test_creating_an_admin_of_a_tenant_is_allowed(api_client, world, admin_auth):
    response = api_client.post(
        "/api/v1/users",
        {**NEW_ACCOUNT, "role": "admin", "tenant_id": world.tenant_a.pk},
        format="json",
        **admin_auth,
    )

    assert response.status_code == 201, response.json()
    created = User.objects.get(username="newbie")
    assert (created.role.name, created.tenant_id) == ("admin", world.tenant_a.pk)
    assert not created.is_platform_admin


def test_a_tenant_admin_creates_admins_in_its_own_tenant(api_client, world):
    response = api_client.post(
        "/api/v1/users",
        {**NEW_ACCOUNT, "role": "admin"},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert response.status_code == 201, response.json()
    assert User.objects.get(username="newbie").tenant_id == world.tenant_a.pk


def test_assigning_admin_to_an_account_without_a_tenant_is_refused(
    api_client, admin_auth, tenantless
):
    response = api_client.post(
        f"/api/v1/users/{tenantless.pk}/roles", {"role": "admin"}, format="json", **admin_auth
    )

    assert_envelope(response, 400, "ADMIN_ROLE_NEEDS_TENANT")
    assert _role_of(tenantless) == "user"


def test_assigning_admin_inside_a_tenant_is_allowed(api_client, world, admin_auth):
    response = api_client.post(
        f"/api/v1/users/{world.member.pk}/roles", {"role": "admin"}, format="json", **admin_auth
    )

    assert response.status_code == 200, response.json()
    assert _role_of(world.member) == "admin"


def test_a_bulk_change_to_admin_refuses_the_accounts_without_a_tenant(
    api_client, world, admin_auth, tenantless
):
    response = api_client.post(
        "/api/v1/users/bulk",
        {"ids": [world.member.pk, tenantless.pk], "role": "admin"},
        format="json",
        **admin_auth,
    )

    body = assert_envelope(response, 400, "BULK_REFUSED")
    assert [(item["id"], item["code"]) for item in body["items"]] == [
        (tenantless.pk, "ADMIN_ROLE_NEEDS_TENANT")
    ]
    assert (_role_of(world.member), _role_of(tenantless)) == ("user", "user")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/api/v1/users/{id}"),
        ("patch", "/api/v1/users/{id}"),
        ("put", "/v1/admin-panel/users/{id}"),
        ("patch", "/v1/admin-panel/users/{id}"),
    ],
)
def test_an_update_giving_admin_without_a_tenant_is_refused(
    api_client, admin_auth, tenantless, method, path
):
    response = getattr(api_client, method)(
        path.format(id=tenantless.pk),
        {"name": "Renamed", "role": "admin"},
        format="json",
        **admin_auth,
    )

    assert_envelope(response, 400, "ADMIN_ROLE_NEEDS_TENANT")
    tenantless.refresh_from_db()
    assert (tenantless.role.name, tenantless.name != "Renamed") == ("user", True)


def test_an_import_of_an_admin_without_a_tenant_writes_nothing(tmp_path, world):
    path = tmp_path / "users.csv"
    path.write_text(
        "username,email,password,role,tenant\n"
        "boss_a,boss_a@example.com,SecurePass123,admin,acme\n"
        "boss,boss@example.com,SecurePass123,admin,\n"
    )
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_users", str(path), stdout=io.StringIO(), stderr=err)

    assert "line 3: role 'admin'" in err.getvalue()
    assert "line 2" not in err.getvalue()
    assert not User.objects.filter(username__in=["boss", "boss_a"]).exists()


def test_an_import_of_a_tenant_admin_is_allowed(tmp_path, world):
    path = tmp_path / "users.csv"
    path.write_text(
        "username,email,password,role,tenant\nboss_a,boss_a@example.com,SecurePass123,admin,acme\n"
    )

    call_command("import_users", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    assert User.objects.get(username="boss_a").tenant_id == world.tenant_a.pk


def test_createsuperuser_still_makes_a_platform_admin(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "RootPass12345")

    call_command(
        "createsuperuser",
        "--noinput",
        "--username",
        "root",
        "--email",
        "root@example.com",
        stdout=io.StringIO(),
    )

    assert User.objects.get(username="root").is_platform_admin
