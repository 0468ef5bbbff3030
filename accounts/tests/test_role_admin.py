"""The admin site's role pages: permissions ticked from the known ones, built-in roles
read-only and undeletable, every change through the roles service (audited)."""

import pytest
from django.contrib.auth.models import Permission as DjangoPermission

from accounts.models import Role
from accounts.tests.factories import RoleFactory, UserFactory
from accounts.tests.world import builtin
from security.models import AuditLog
from security.tests.helpers import audit_row
from tenants.models import Tenant

ROLES = "/admin/accounts/role/"


def _add(client, **fields):
    data = {"name": "reviewer", "description": "Reads models", "tenant": "", **fields}
    return client.post(f"{ROLES}add/", data, follow=True)


def test_add_page_offers_the_known_permissions_as_checkboxes(admin_client):
    page = admin_client.get(f"{ROLES}add/").content.decode()

    assert 'type="checkbox" name="permissions" value="read:models"' in page
    assert 'type="checkbox" name="permissions" value="manage:roles"' in page
    assert 'name="is_builtin"' not in page


def test_adding_a_role_goes_through_the_service_and_is_audited(admin_client):
    tenant = Tenant.objects.create(name="Acme", slug="acme")

    _add(admin_client, permissions=["write:self", "read:models"], tenant=tenant.pk)

    role = Role.objects.get(name="reviewer")
    assert role.permissions == ["read:models", "write:self"]
    assert role.tenant_id == tenant.pk and not role.is_builtin
    row = audit_row(action="role.create", target_id=str(role.pk))
    assert row.actor_label == "boss"


def test_an_unknown_permission_is_refused_by_the_form(admin_client):
    page = _add(admin_client, permissions=["read:models", "launch:rockets"])

    assert "launch:rockets is not one of the available choices" in page.content.decode()
    assert not Role.objects.filter(name="reviewer").exists()


def test_is_builtin_cannot_be_set_from_the_form(admin_client):
    _add(admin_client, permissions=["read:models"], is_builtin="on")

    assert Role.objects.get(name="reviewer").is_builtin is False


def test_a_name_the_api_refuses_is_refused_here_and_nothing_is_saved(admin_client):
    page = _add(admin_client, name="Bad Name!", permissions=["read:models"])

    assert "Nothing changed" in page.content.decode()
    assert not Role.objects.filter(name="Bad Name!").exists()
    assert not AuditLog.objects.filter(action="role.create").exists()


def test_changing_a_custom_role_is_audited_with_what_changed(admin_client):
    role = RoleFactory(name="helper", permissions=["read:models"])

    admin_client.post(
        f"{ROLES}{role.pk}/change/",
        {"description": "Helps", "permissions": ["read:models", "read:users"]},
    )

    role.refresh_from_db()
    assert role.permissions == ["read:models", "read:users"]
    changes = audit_row(action="role.update", target_id=str(role.pk)).changes
    assert changes["permissions"] == {
        "before": ["read:models"],
        "after": ["read:models", "read:users"],
    }


def test_a_permission_outside_the_known_ones_is_kept_when_the_role_is_saved(admin_client):
    role = RoleFactory(name="legacy", permissions=["read:models", "use:gpt4"])

    page = admin_client.get(f"{ROLES}{role.pk}/change/").content.decode()
    admin_client.post(
        f"{ROLES}{role.pk}/change/",
        {"description": "x", "permissions": ["read:models", "use:gpt4"]},
    )

    assert 'value="use:gpt4"' in page
    role.refresh_from_db()
    assert role.permissions == ["read:models", "use:gpt4"]


def test_a_role_change_refused_by_the_service_changes_nothing(client, db):
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    role = RoleFactory(name="helper", permissions=["read:models"], tenant=tenant)
    staff = UserFactory(username="deputy", is_staff=True)  # no platform admin
    staff.user_permissions.set(
        DjangoPermission.objects.filter(codename__in=["view_role", "change_role"])
    )
    client.force_login(staff)

    page = client.post(
        f"{ROLES}{role.pk}/change/",
        {"description": "x", "permissions": ["manage:roles"]},
        follow=True,
    )

    assert "Nothing changed" in page.content.decode()
    role.refresh_from_db()
    assert role.permissions == ["read:models"]


@pytest.mark.parametrize("name", ["admin", "moderator", "user", "guest"])
def test_builtin_roles_are_read_only(admin_client, name):
    role = builtin(name)
    before = list(role.permissions)

    page = admin_client.get(f"{ROLES}{role.pk}/change/")
    posted = admin_client.post(
        f"{ROLES}{role.pk}/change/", {"description": "x", "permissions": ["read:self"]}
    )

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert posted.status_code == 403
    role.refresh_from_db()
    assert role.permissions == before


def test_builtin_roles_cannot_be_deleted_by_page_or_action(admin_client):
    role = builtin("guest")

    page = admin_client.post(f"{ROLES}{role.pk}/delete/", {"post": "yes"})
    admin_client.post(
        ROLES, {"action": "delete_selected", "_selected_action": [role.pk], "post": "yes"}
    )

    assert page.status_code == 403
    assert Role.objects.filter(pk=role.pk).exists()


def test_deleting_a_custom_role_goes_through_the_service(admin_client):
    role = RoleFactory(name="helper")

    admin_client.post(f"{ROLES}{role.pk}/delete/", {"post": "yes"})

    assert not Role.objects.filter(pk=role.pk).exists()
    assert audit_row(action="role.delete", target_id=str(role.pk)).actor_label == "boss"


def test_a_role_still_held_is_not_deleted(admin_client):
    role = RoleFactory(name="helper")
    UserFactory(role=role)

    page = admin_client.post(f"{ROLES}{role.pk}/delete/", {"post": "yes"}, follow=True)

    assert "Cannot delete role" in page.content.decode()
    assert Role.objects.filter(pk=role.pk).exists()
    assert not AuditLog.objects.filter(action="role.delete").exists()
