"""Management-scoped API keys: the user and role API with a key alone, and its limits.

A tenant admin makes a key naming read:users, write:users and manage:roles; with that
key alone a program provisions its tenant. Everything here goes through HTTP against
the real database and cache, so the key's cached state and its owner's cached copy
are the ones a deployment would read.
"""

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.auth.request_cache import forget_changed_user
from accounts.authz.roles import Permission
from accounts.models import Role, User
from accounts.tests.factories import RoleFactory, UserFactory
from accounts.tests.helpers import ME_URL, PASSWORD, assert_envelope, bearer, login
from accounts.tests.world import build_world, builtin
from apikeys.models import APIKey
from apikeys.services import KEY_PREFIX, apikey_regenerate_primary
from apikeys.tests.factories import APIKeyFactory
from apikeys.tests.helpers import use_key
from security.models import ActorKind, AuditAction
from security.tests.helpers import audit_row

USERS = "/api/v1/users"
ROLES = "/api/v1/roles"
KEYS = "/api/v1/api-keys"
MANAGEMENT_SCOPES = [
    Permission.WRITE_USERS.value,
    Permission.READ_USERS.value,
    Permission.MANAGE_ROLES.value,
]
DEVELOPER_PERMISSIONS = ["read:models", "read:self", "write:models", "write:self"]


@pytest.fixture
def world(db):
    return build_world()


def _session(api_client, user) -> dict:
    return bearer(login(api_client, user.email)["access_token"])


def _make_key(api_client, user, scopes) -> object:
    return api_client.post(
        KEYS,
        {"name": "provisioning", "scopes": scopes},
        format="json",
        **_session(api_client, user),
    )


def _key(clear: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {clear}"}


@pytest.fixture
def admin_key(api_client, world) -> str:
    """A key of tenant A's admin with the three management scopes, made over HTTP."""
    response = _make_key(api_client, world.users["tenant_admin"], MANAGEMENT_SCOPES)
    assert response.status_code == 201, response.content
    return response.json()["api_key"]


def _new_user(username: str, **fields) -> dict:
    return {
        "email": f"{username}@example.com",
        "username": username,
        "password": PASSWORD,
        **fields,
    }


# ----- what a management key does ---------------------------------------------------


def test_making_a_management_key_is_audited_with_its_scopes(api_client, world, admin_key):
    row = audit_row(action=AuditAction.API_KEY_CREATE, actor_id=world.users["tenant_admin"].pk)

    assert row.changes["scopes"] == sorted(MANAGEMENT_SCOPES)


def test_a_management_key_provisions_its_own_tenant(api_client, world, admin_key):
    admin = world.users["tenant_admin"]

    role = api_client.post(
        ROLES,
        {"name": "developer", "permissions": DEVELOPER_PERMISSIONS},
        format="json",
        **_key(admin_key),
    )
    created = api_client.post(
        USERS,
        _new_user("dev1", role="developer", tenant_id=world.tenant_b.pk),
        format="json",
        **_key(admin_key),
    )
    promoted = api_client.post(
        f"{USERS}/{created.json()['id']}/roles",
        {"role": "moderator"},
        format="json",
        **_key(admin_key),
    )
    listed = api_client.get(USERS, {"page_size": 100}, **_key(admin_key))
    me = api_client.get(ME_URL, **_key(admin_key))

    assert role.status_code == 201, role.content
    assert Role.objects.get(pk=role.json()["id"]).tenant_id == world.tenant_a.pk
    assert created.status_code == 201, created.content
    developer = User.objects.get(pk=created.json()["id"])
    assert developer.tenant_id == world.tenant_a.pk  # the tenant_id asked for is not the key's
    assert promoted.status_code == 200, promoted.content
    assert promoted.json()["role"] == "moderator"
    assigned = audit_row(action=AuditAction.USER_ROLE_ASSIGN, target_id=str(developer.pk))
    assert (assigned.actor_id, assigned.actor_kind) == (admin.pk, ActorKind.API_KEY)
    assert listed.status_code == 200, listed.content
    tenants = {row["tenant_id"] for row in listed.json()["results"]}
    assert tenants == {world.tenant_a.pk}
    assert me.status_code == 200 and me.json()["id"] == admin.pk


def test_a_management_key_sees_nothing_of_another_tenant(api_client, world, admin_key):
    other = world.other_member
    other_role = RoleFactory(tenant=world.tenant_b, name="globex-dev", permissions=["read:models"])

    assert_envelope(api_client.get(f"{USERS}/{other.pk}", **_key(admin_key)), 404)
    assert_envelope(
        api_client.patch(
            f"{USERS}/{other.pk}", {"name": "Xavier"}, format="json", **_key(admin_key)
        ),
        404,
    )
    assert_envelope(
        api_client.post(
            f"{USERS}/{other.pk}/status", {"status": "suspended"}, format="json", **_key(admin_key)
        ),
        404,
    )
    assert_envelope(
        api_client.patch(
            f"{ROLES}/{other_role.pk}",
            {"permissions": ["read:users"]},
            format="json",
            **_key(admin_key),
        ),
        404,
    )
    other.refresh_from_db()
    assert other.status == User.Status.ACTIVE and other.name != "Xavier"


def test_a_management_key_gives_no_more_than_it_carries(api_client, world, admin_key):
    """The key lacks delete:users and manage:tenant, so it may neither make an admin nor
    touch one, even though its owner is an admin: it cannot pass on what it lacks."""
    fellow_admin = UserFactory(tenant=world.tenant_a, role=builtin("admin"))

    as_admin = api_client.post(
        USERS, _new_user("boss", role="admin"), format="json", **_key(admin_key)
    )
    promote = api_client.post(
        f"{USERS}/{world.member.pk}/roles", {"role": "admin"}, format="json", **_key(admin_key)
    )
    strong_role = api_client.post(
        ROLES,
        {"name": "deleter", "permissions": ["delete:users", "read:users"]},
        format="json",
        **_key(admin_key),
    )
    suspend = api_client.post(
        f"{USERS}/{fellow_admin.pk}/status",
        {"status": "suspended"},
        format="json",
        **_key(admin_key),
    )

    assert_envelope(as_admin, 403, "ROLE_TOO_HIGH")
    assert not User.objects.filter(username="boss").exists()
    assert_envelope(promote, 403, "ROLE_TOO_HIGH")
    assert_envelope(strong_role, 403, "ROLE_TOO_HIGH")
    assert not Role.objects.filter(name="deleter").exists()
    assert_envelope(suspend, 403)
    fellow_admin.refresh_from_db()
    world.member.refresh_from_db()
    assert fellow_admin.status == User.Status.ACTIVE
    assert world.member.role.name == "user"


def test_a_management_key_cannot_strip_a_role_stronger_than_itself(api_client, world, admin_key):
    strong = RoleFactory(
        tenant=world.tenant_a, name="auditor", permissions=["delete:users", "read:users"]
    )

    response = api_client.patch(
        f"{ROLES}/{strong.pk}", {"permissions": ["read:users"]}, format="json", **_key(admin_key)
    )

    assert_envelope(response, 403, "ROLE_TOO_HIGH")
    strong.refresh_from_db()
    assert strong.permissions == ["delete:users", "read:users"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("delete", f"{USERS}/{{member}}", None),
        ("post", f"{USERS}/bulk", {"ids": ["{member}"], "status": "suspended"}),
        ("delete", f"{ROLES}/{{role}}", None),
        ("post", KEYS, {"name": "minted", "scopes": MANAGEMENT_SCOPES}),
        ("post", "/api/v1/users/me/change-password", {"current_password": PASSWORD}),
        ("post", "/api/v1/auth/change-password", {"current_password": PASSWORD}),
        ("post", "/api/v1/auth/mfa/totp/setup", {}),
        ("get", "/api/v1/users/me/sessions", None),
        ("patch", ME_URL, {"email": "taken@example.com", "name": "Mallory"}),
        ("delete", ME_URL, {"password": PASSWORD}),
        ("post", "/v1/users/api-key/regenerate", {}),
    ],
)
def test_a_management_key_cannot_do_what_needs_a_login(
    api_client, world, admin_key, method, path, body
):
    role = RoleFactory(tenant=world.tenant_a, name="spare", permissions=["read:models"])
    path = path.format(member=world.member.pk, role=role.pk)
    if body and "ids" in body:
        body = {**body, "ids": [world.member.pk]}
    keys_before = APIKey.objects.count()

    response = getattr(api_client, method)(path, body, format="json", **_key(admin_key))

    assert_envelope(response, 401, "API_KEY_NOT_ACCEPTED")
    assert APIKey.objects.count() == keys_before
    assert User.objects.get(pk=world.member.pk).status == User.Status.ACTIVE
    assert Role.objects.filter(pk=role.pk).exists()
    admin = User.objects.get(pk=world.users["tenant_admin"].pk)
    assert admin.name != "Mallory" and admin.deleted_at is None


# ----- keys without the scope ---------------------------------------------------------


@pytest.mark.parametrize(
    "scopes", [None, ["read", "write"], ["read:*", "write:*", "manage:*"]], ids=str
)
def test_generic_scopes_open_no_management(api_client, world, scopes):
    body = {"name": "metered"} if scopes is None else {"name": "metered", "scopes": scopes}
    created = api_client.post(
        KEYS, body, format="json", **_session(api_client, world.users["tenant_admin"])
    )
    clear = created.json()["api_key"]

    listing = api_client.get(USERS, **_key(clear))
    creating = api_client.post(USERS, _new_user("sneaky"), format="json", **_key(clear))
    role = api_client.post(
        ROLES, {"name": "sneaky", "permissions": ["read:models"]}, format="json", **_key(clear)
    )

    assert "read:users" in assert_envelope(listing, 403, "API_KEY_SCOPE_MISSING")["message"]
    assert "write:users" in assert_envelope(creating, 403, "API_KEY_SCOPE_MISSING")["message"]
    assert "manage:roles" in assert_envelope(role, 403, "API_KEY_SCOPE_MISSING")["message"]
    assert not User.objects.filter(username="sneaky").exists()
    assert not Role.objects.filter(name="sneaky").exists()
    # The same key still does what a metered key does.
    assert api_client.get(ME_URL, **_key(clear)).status_code == 200
    assert use_key(api_client, clear).status_code == 200


def test_a_read_users_key_reads_and_cannot_write(api_client, world):
    created = _make_key(api_client, world.users["tenant_admin"], ["read:users"])
    clear = created.json()["api_key"]

    listing = api_client.get(USERS, **_key(clear))
    one = api_client.get(f"{USERS}/{world.member.pk}", **_key(clear))
    creating = api_client.post(USERS, _new_user("writer"), format="json", **_key(clear))
    assigning = api_client.post(
        f"{USERS}/{world.member.pk}/roles", {"role": "guest"}, format="json", **_key(clear)
    )
    renaming = api_client.patch(
        f"{USERS}/{world.member.pk}", {"name": "Renamed"}, format="json", **_key(clear)
    )

    assert listing.status_code == 200 and one.status_code == 200
    for refused in (creating, assigning, renaming):
        assert "write:users" in assert_envelope(refused, 403, "API_KEY_SCOPE_MISSING")["message"]
    world.member.refresh_from_db()
    assert world.member.role.name == "user" and world.member.name != "Renamed"


def test_a_write_users_key_without_read_users_finds_no_one_to_change(api_client, world):
    """The key acts with its owner's role narrowed to its scopes all the way down: the
    lookup of the user to change asks for read:users, which this key does not carry."""
    clear = _make_key(api_client, world.users["tenant_admin"], ["write:users"]).json()["api_key"]

    renaming = api_client.patch(
        f"{USERS}/{world.member.pk}", {"name": "Renamed"}, format="json", **_key(clear)
    )
    creating = api_client.post(USERS, _new_user("blind"), format="json", **_key(clear))

    assert_envelope(renaming, 404)
    assert creating.status_code == 201, creating.content
    world.member.refresh_from_db()
    assert world.member.name != "Renamed"


# ----- making a key -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "scopes", "code"),
    [
        ("user", ["write:users"], "SCOPE_NOT_HELD"),
        ("user", ["read:users"], "SCOPE_NOT_HELD"),
        ("moderator", ["read:users", "manage:roles"], "SCOPE_NOT_HELD"),
        ("tenant_admin", ["delete:users"], "INVALID_SCOPE"),
        ("tenant_admin", ["manage:tenant"], "INVALID_SCOPE"),
        ("tenant_admin", ["export:users"], "INVALID_SCOPE"),
        ("platform_admin", ["read:users"], "API_KEY_STAFF_ACCOUNT"),
    ],
)
def test_a_key_carries_only_management_scopes_its_maker_holds(
    api_client, world, actor, scopes, code
):
    user = world.users[actor]

    response = _make_key(api_client, user, scopes)

    body = assert_envelope(response, 400 if code == "INVALID_SCOPE" else 403, code)
    assert scopes[-1] in " ".join([body["message"], *body["errors"]])
    assert not APIKey.objects.filter(user=user, name="provisioning").exists()


def test_support_staff_cannot_make_a_management_key(api_client, world):
    staff = UserFactory(support_level=User.SupportLevel.ADVANCED, role=builtin("moderator"))

    assert_envelope(_make_key(api_client, staff, ["read:users"]), 403, "API_KEY_STAFF_ACCOUNT")


def test_a_moderator_key_within_the_role_works(api_client, world):
    created = _make_key(api_client, world.users["moderator"], ["read:users", "write:users"])
    clear = created.json()["api_key"]

    made = api_client.post(USERS, _new_user("helper"), format="json", **_key(clear))
    above = api_client.post(
        USERS, _new_user("mod2", role="moderator"), format="json", **_key(clear)
    )

    assert made.status_code == 201, made.content
    # A moderator may give roles up to their own, and the key carries all of it.
    assert above.status_code == 201, above.content


# ----- the owner changes ------------------------------------------------------------


def test_the_owners_demotion_stops_the_key_at_once(api_client, world, admin_key):
    admin = world.users["tenant_admin"]
    assert api_client.get(USERS, **_key(admin_key)).status_code == 200  # owner now cached

    demoted = api_client.post(
        f"{USERS}/{admin.pk}/roles",
        {"role": "user"},
        format="json",
        **world.auth("platform_admin"),
    )
    listing = api_client.get(USERS, **_key(admin_key))
    creating = api_client.post(USERS, _new_user("late"), format="json", **_key(admin_key))

    assert demoted.status_code == 200, demoted.content
    assert "read:users" in assert_envelope(listing, 403, "PERMISSION_DENIED")["message"]
    assert_envelope(creating, 403, "PERMISSION_DENIED")
    assert not User.objects.filter(username="late").exists()


def test_a_change_of_the_owners_role_stops_the_key_at_once(api_client, world):
    provisioner = RoleFactory(
        tenant=world.tenant_a,
        name="provisioner",
        permissions=["read:models", "read:users", "write:users"],
    )
    owner = UserFactory(tenant=world.tenant_a, role=provisioner)
    clear = _make_key(api_client, owner, ["read:users", "write:users"]).json()["api_key"]
    assert api_client.get(USERS, **_key(clear)).status_code == 200

    api_client.patch(
        f"{ROLES}/{provisioner.pk}",
        {"permissions": ["read:models"]},
        format="json",
        **world.auth("tenant_admin"),
    )
    listing = api_client.get(USERS, **_key(clear))

    assert_envelope(listing, 403, "PERMISSION_DENIED")


def test_the_owners_suspension_stops_the_key_at_once(api_client, world, admin_key):
    admin = world.users["tenant_admin"]
    assert api_client.get(USERS, **_key(admin_key)).status_code == 200

    suspended = api_client.post(
        f"{USERS}/{admin.pk}/status",
        {"status": "suspended"},
        format="json",
        **world.auth("platform_admin"),
    )

    assert suspended.status_code == 200, suspended.content
    assert_envelope(api_client.get(USERS, **_key(admin_key)), 401)
    assert_envelope(
        api_client.post(USERS, _new_user("ghost"), format="json", **_key(admin_key)), 401
    )


def test_an_owner_made_staff_loses_the_keys_management_power(api_client, world, admin_key):
    admin = world.users["tenant_admin"]
    assert api_client.get(USERS, **_key(admin_key)).status_code == 200

    admin.support_level = User.SupportLevel.SUPPORT
    admin.save(update_fields=["support_level"])
    forget_changed_user(admin, ["support_level"])

    assert_envelope(api_client.get(USERS, **_key(admin_key)), 403, "API_KEY_STAFF_ACCOUNT")


def test_a_key_row_naming_a_session_only_permission_carries_none_of_it(api_client, world):
    """A row made behind the service's back (or before the scope rule) naming
    delete:users and manage:tenant: the key still cannot make or touch an admin."""
    clear = f"{KEY_PREFIX}{secrets.token_urlsafe(24)}"
    APIKeyFactory(
        user=world.users["tenant_admin"],
        scopes=[*MANAGEMENT_SCOPES, "delete:users", "manage:tenant"],
        clear=clear,
    )

    response = api_client.post(
        f"{USERS}/{world.member.pk}/roles", {"role": "admin"}, format="json", **_key(clear)
    )
    deleting = api_client.delete(f"{USERS}/{world.member.pk}", **_key(clear))

    assert_envelope(response, 403, "ROLE_TOO_HIGH")
    assert_envelope(deleting, 401, "API_KEY_NOT_ACCEPTED")
    world.member.refresh_from_db()
    assert world.member.role.name == "user" and world.member.deleted_at is None


# ----- platform staff -------------------------------------------------------------------


def test_a_platform_admins_key_carries_no_platform_power(api_client, world):
    """Made behind the service's back (as an old row might be), a management-scoped key
    of a super admin is still refused: the use-time rule does not trust creation."""
    root = world.users["platform_admin"]
    forged_clear = f"{KEY_PREFIX}{secrets.token_urlsafe(24)}"
    APIKeyFactory(user=root, scopes=MANAGEMENT_SCOPES, clear=forged_clear)
    default = apikey_regenerate_primary(user=root, actor=root).clear

    listing = api_client.get(USERS, **_key(forged_clear))
    creating = api_client.post(
        USERS,
        _new_user("rootmade", tenant_id=world.tenant_b.pk),
        format="json",
        **_key(forged_clear),
    )
    default_listing = api_client.get(USERS, **_key(default))

    assert_envelope(listing, 403, "API_KEY_STAFF_ACCOUNT")
    assert_envelope(creating, 403, "API_KEY_STAFF_ACCOUNT")
    assert_envelope(default_listing, 403, "API_KEY_SCOPE_MISSING")
    assert not User.objects.filter(username="rootmade").exists()


def test_support_staff_keys_do_not_open_the_support_api(api_client, world):
    """The support API takes login sessions only: a key is not even looked at."""
    staff = UserFactory(support_level=User.SupportLevel.ADVANCED)
    clear = apikey_regenerate_primary(user=staff, actor=staff).clear

    response = api_client.get("/v1/support/users", **_key(clear))

    assert_envelope(response, 401, "NOT_AUTHENTICATED")


def test_an_expired_password_stops_management_by_key_until_it_is_changed(
    api_client, world, admin_key, settings
):
    """The key is as strong as its owner's login, which an expired password stops."""
    settings.PASSWORD_EXPIRY_DAYS = 90
    owner = world.users["tenant_admin"]
    User.objects.filter(pk=owner.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    forget_changed_user(owner, ["password_changed_at"])

    listed = api_client.get(USERS, **_key(admin_key))
    created = api_client.post(USERS, _new_user("late"), format="json", **_key(admin_key))

    assert_envelope(listed, 403, "PASSWORD_EXPIRED")
    assert_envelope(created, 403, "PASSWORD_EXPIRED")
    assert not User.objects.filter(username="late").exists()
