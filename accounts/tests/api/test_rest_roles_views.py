"""/api/v1/roles: custom roles per tenant, and assigning them."""

import pytest

from accounts.models import Role, User
from accounts.tests.helpers import assert_envelope
from accounts.tests.world import builtin


def test_tenant_admin_creates_a_custom_role_in_its_tenant(api_client, world):
    response = api_client.post(
        "/api/v1/roles",
        {"name": "custom_role", "permissions": ["read:models", "write:models", "delete:models"]},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert response.status_code == 201
    role = Role.objects.get(name="custom_role")
    assert (role.tenant_id, role.permissions) == (
        world.tenant_a.pk,
        ["delete:models", "read:models", "write:models"],
    )


@pytest.mark.parametrize("bad", ["readmodels", "Read:Models", "read:", ":models", "read models"])
def test_permission_strings_must_be_action_resource(api_client, world, bad):
    response = api_client.post(
        "/api/v1/roles",
        {"name": "bad_role", "permissions": [bad]},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert_envelope(response, 400, "INVALID_PERMISSION")


def test_custom_role_is_assigned_and_invisible_to_other_tenants(api_client, world):
    created = api_client.post(
        "/api/v1/roles",
        {"name": "custom_role", "permissions": ["read:models"]},
        format="json",
        **world.auth("tenant_admin"),
    ).json()

    assigned = api_client.post(
        f"/api/v1/users/{world.member.pk}/roles",
        {"role": "custom_role"},
        format="json",
        **world.auth("tenant_admin"),
    )
    other = api_client.get(f"/api/v1/roles/{created['id']}", **world.auth("other_admin"))
    other_assign = api_client.post(
        f"/api/v1/users/{world.other_member.pk}/roles",
        {"role": "custom_role"},
        format="json",
        **world.auth("other_admin"),
    )

    assert assigned.json()["role"] == "custom_role"
    assert_envelope(other, 404)
    assert_envelope(other_assign, 400, "UNKNOWN_ROLE")


def test_role_in_use_cannot_be_deleted_and_builtins_never(api_client, world):
    auth = world.auth("tenant_admin")
    role = api_client.post(
        "/api/v1/roles",
        {"name": "custom_role", "permissions": ["read:models"]},
        format="json",
        **auth,
    ).json()
    api_client.post(
        f"/api/v1/users/{world.member.pk}/roles", {"role": "custom_role"}, format="json", **auth
    )

    in_use = api_client.delete(f"/api/v1/roles/{role['id']}", **auth)
    builtin_delete = api_client.delete(f"/api/v1/roles/{builtin('user').pk}", **auth)

    assert_envelope(in_use, 409, "ROLE_IN_USE")
    assert_envelope(builtin_delete, 403, "BUILTIN_ROLE")


def test_nobody_raises_anyone_above_their_own_role(api_client, world):
    raise_self = api_client.post(
        f"/api/v1/users/{world.users['moderator'].pk}/roles",
        {"role": "admin"},
        format="json",
        **world.auth("moderator"),
    )
    stronger_custom = api_client.post(
        "/api/v1/roles",
        {"name": "sneaky", "permissions": ["manage:roles"]},
        format="json",
        **world.auth("moderator"),
    )

    assert_envelope(raise_self, 403)
    assert_envelope(stronger_custom, 403)
    assert User.objects.get(pk=world.users["moderator"].pk).role.name == "moderator"
