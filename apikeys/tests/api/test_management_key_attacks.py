"""Attacks on management-scoped API keys: every way a key might reach more than its
scopes, its owner's current role, or the surfaces that take a login session only.

Through HTTP against the real database and cache, as `test_management_keys` does.
"""

import pytest
from django.urls import get_resolver
from django.urls.resolvers import URLResolver

from accounts.auth.request_cache import forget_changed_user
from accounts.models import Role, User
from accounts.tests.factories import RoleFactory, UserFactory
from accounts.tests.helpers import PASSWORD, assert_envelope, bearer, login
from accounts.tests.world import build_world, builtin
from apikeys.models import APIKey
from apikeys.services import apikey_create
from support.tests.helpers import make_staff, staff_auth

USERS = "/api/v1/users"
ROLES = "/api/v1/roles"
KEYS = "/api/v1/api-keys"
MANAGEMENT_SCOPES = ["manage:roles", "read:users", "write:users"]


@pytest.fixture
def world(db):
    return build_world()


def _session(api_client, user) -> dict:
    return bearer(login(api_client, user.email)["access_token"])


def _key(clear: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {clear}"}


@pytest.fixture
def admin_key(api_client, world) -> str:
    response = api_client.post(
        KEYS,
        {"name": "provisioning", "scopes": MANAGEMENT_SCOPES},
        format="json",
        **_session(api_client, world.users["tenant_admin"]),
    )
    assert response.status_code == 201, response.content
    return response.json()["api_key"]


def _new_user(username: str, **fields) -> dict:
    return {
        "email": f"{username}@example.com",
        "username": username,
        "password": PASSWORD,
        **fields,
    }


# ----- surfaces a key must never open ---------------------------------------------------


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.callback


# Every route a key opens, and the view behind it: a new one (or one inheriting the
# attribute from a view it reuses) must be added here on purpose.
KEY_ROUTES = {
    "api/v1/^users/me/credits/?$": "MyCreditsView",
    "api/v1/^users/me/?$": "MeView",
    "v1/users/^profile/?$": "V1ProfileView",
    "v1/^prompt/completions/?$": "CompletionView",
    "v1/^batch/process/?$": "BatchView",
    "v1/^chat/completions/?$": "ChatCompletionsView",
    "v1/^models/?$": "ModelsView",
    "api/v1/^users/?$": "UserAdminViewSet",
    "api/v1/^users/bulk/?$": "UserAdminViewSet",
    "api/v1/^users/stats/?$": "UserAdminViewSet",
    "api/v1/^users/(?P<pk>\\d+)/?$": "UserAdminViewSet",
    "api/v1/^users/(?P<pk>\\d+)/roles/?$": "UserAdminViewSet",
    "api/v1/^users/(?P<pk>\\d+)/status/?$": "UserAdminViewSet",
    "api/v1/^roles/?$": "RoleViewSet",
    "api/v1/^roles/(?P<pk>\\d+)/?$": "RoleViewSet",
    "api/v1/^users/me/preferences/?$": "MyPreferencesView",
    "api/v1/^users/me/preferences/history/?$": "MyPreferenceHistoryView",
    "api/v1/^plans/?$": "PlansView",
    "api/v1/^users/me/billing/?$": "MyBillingView",
    "api/v1/^users/me/billing/history/?$": "MyPlanHistoryView",
}


def test_only_the_listed_routes_take_keys():
    taking_keys = {}
    for route, callback in _routes(get_resolver().url_patterns):
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if getattr(view, "accepts_api_keys", False):
            taking_keys[route] = view.__name__

    assert taking_keys == KEY_ROUTES


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/v1/admin-panel/users", None),
        ("get", "/v1/admin-panel/users/{member}", None),
        ("patch", "/v1/admin-panel/users/{member}", {"name": "Panelled"}),
        ("delete", "/v1/admin-panel/users/{member}", None),
    ],
)
def test_a_management_key_does_not_open_the_admin_panel(
    api_client, world, admin_key, method, path, body
):
    """The admin panel's user views share the user admin's code, not its key rule."""
    response = getattr(api_client, method)(
        path.format(member=world.member.pk), body, format="json", **_key(admin_key)
    )

    assert_envelope(response, 401, "API_KEY_NOT_ACCEPTED")
    world.member.refresh_from_db()
    assert world.member.name != "Panelled" and world.member.deleted_at is None


# ----- rotating a key is making one ------------------------------------------------------


def test_support_staff_cannot_regenerate_a_management_key_into_their_hands(api_client, world):
    """A plain-rank account (a custom role holding read:users) is one support staff may
    act on; regenerating its read:users key would hand staff a management key."""
    viewer = RoleFactory(
        tenant=world.tenant_a, name="viewer", permissions=["read:models", "read:self", "read:users"]
    )
    owner = UserFactory(tenant=world.tenant_a, role=viewer)
    issued = apikey_create(user=owner, name="reports", scopes=["read:users"], actor=owner)
    staff = make_staff(User.SupportLevel.ADVANCED, tenant=world.tenant_a)

    response = api_client.post(
        f"/v1/support/users/{owner.pk}/api-keys/{issued.key.pk}/regenerate", **staff_auth(staff)
    )

    assert_envelope(response, 403, "API_KEY_STAFF_ACCOUNT")
    assert not APIKey.objects.filter(user=owner).exclude(pk=issued.key.pk).exists()
    assert api_client.get(USERS, **_key(issued.clear)).status_code == 200


def test_rotating_keeps_no_management_scope_the_owner_lost(api_client, world, admin_key):
    admin = world.users["tenant_admin"]
    key = APIKey.objects.get(user=admin, name="provisioning")
    admin.role = builtin("user")
    admin.save(update_fields=["role"])
    forget_changed_user(admin, ["role"])

    response = api_client.post(f"{KEYS}/{key.pk}/rotate", **_session(api_client, admin))

    assert_envelope(response, 403, "SCOPE_NOT_HELD")
    key.refresh_from_db()
    assert key.revoked_at is None
    assert APIKey.objects.filter(user=admin, name="provisioning").count() == 1


def test_the_owner_rotates_a_management_key_they_still_hold(api_client, world, admin_key):
    key = APIKey.objects.get(user=world.users["tenant_admin"], name="provisioning")

    response = api_client.post(
        f"{KEYS}/{key.pk}/rotate", **_session(api_client, world.users["tenant_admin"])
    )

    assert response.status_code == 200, response.content
    assert api_client.get(USERS, **_key(response.json()["api_key"])).status_code == 200
    assert_envelope(api_client.get(USERS, **_key(admin_key)), 401, "INVALID_API_KEY")


# ----- escalation through the operations a key opens -------------------------------------


def test_a_key_creates_users_and_roles_only_in_its_owners_tenant(api_client, world, admin_key):
    user = api_client.post(
        USERS,
        _new_user("migrant", tenant_id=world.tenant_b.pk, tenant=world.tenant_b.pk),
        format="json",
        **_key(admin_key),
    )
    role = api_client.post(
        ROLES,
        {"name": "foreign", "permissions": ["read:models"], "tenant_id": world.tenant_b.pk},
        format="json",
        **_key(admin_key),
    )

    assert user.status_code == 201, user.content
    assert User.objects.get(username="migrant").tenant_id == world.tenant_a.pk
    assert role.status_code == 201, role.content
    assert Role.objects.get(name="foreign").tenant_id == world.tenant_a.pk


def test_a_key_cannot_take_its_owner_out_or_change_their_role(api_client, world, admin_key):
    admin = world.users["tenant_admin"]

    status = api_client.post(
        f"{USERS}/{admin.pk}/status", {"status": "suspended"}, format="json", **_key(admin_key)
    )
    role = api_client.post(
        f"{USERS}/{admin.pk}/roles", {"role": "moderator"}, format="json", **_key(admin_key)
    )
    patch = api_client.patch(
        f"{USERS}/{admin.pk}",
        {"role": "moderator", "status": "suspended"},
        format="json",
        **_key(admin_key),
    )

    assert_envelope(status, 403, "SELF_LOCKOUT")
    assert_envelope(role, 403, "SELF_LOCKOUT")
    # Its own record is changed with write:self, which this key does not carry.
    assert_envelope(patch, 403, "PERMISSION_DENIED")
    admin.refresh_from_db()
    assert admin.status == User.Status.ACTIVE and admin.role.name == "admin"


def test_a_key_cannot_touch_a_superuser_or_staff_of_its_tenant(api_client, world, admin_key):
    staff = make_staff(User.SupportLevel.ADVANCED, tenant=world.tenant_a)
    root = world.users["platform_admin"]

    on_staff = api_client.post(
        f"{USERS}/{staff.pk}/status", {"status": "suspended"}, format="json", **_key(admin_key)
    )
    on_root = api_client.post(
        f"{USERS}/{root.pk}/status", {"status": "suspended"}, format="json", **_key(admin_key)
    )

    assert on_staff.status_code in (403, 404), on_staff.content
    assert_envelope(on_root, 404)
    staff.refresh_from_db()
    root.refresh_from_db()
    assert staff.status == root.status == User.Status.ACTIVE


def test_a_key_sets_no_staff_flag_plan_or_balance(api_client, world, admin_key):
    member = world.member
    plan_before = member.subscription_plan_id

    response = api_client.patch(
        f"{USERS}/{member.pk}",
        {
            "is_staff": True,
            "is_superuser": True,
            "support_level": "advanced",
            "tenant_id": world.tenant_b.pk,
            "credits": {"main": 10**6},
            "name": "Still plain",
        },
        format="json",
        **_key(admin_key),
    )
    plan = api_client.patch(
        f"{USERS}/{member.pk}", {"subscription_plan": "pro"}, format="json", **_key(admin_key)
    )

    assert response.status_code == 200, response.content
    member.refresh_from_db()
    assert not (member.is_staff or member.is_superuser or member.support_level)
    assert member.tenant_id == world.tenant_a.pk and member.name == "Still plain"
    assert plan.status_code in (400, 403), plan.content
    member.refresh_from_db()
    assert member.subscription_plan_id == plan_before


def test_a_key_cannot_change_another_users_privacy(api_client, world, admin_key):
    """Privacy choices of others need manage:tenant, which a key never carries."""
    response = api_client.patch(
        f"{USERS}/{world.member.pk}",
        {"preferences": {"privacy": {"show_email": False}}},
        format="json",
        **_key(admin_key),
    )

    assert_envelope(response, 403)
    world.member.refresh_from_db()
    assert "privacy" not in (world.member.preferences or {})


def test_a_key_cannot_raise_the_role_its_owner_holds(api_client, world):
    provisioner = RoleFactory(
        tenant=world.tenant_a,
        name="provisioner",
        permissions=["manage:roles", "read:users", "write:users"],
    )
    owner = UserFactory(tenant=world.tenant_a, role=provisioner)
    clear = apikey_create(
        user=owner, name="p", scopes=["manage:roles", "read:users", "write:users"], actor=owner
    ).clear

    response = api_client.patch(
        f"{ROLES}/{provisioner.pk}",
        {"permissions": ["delete:users", "manage:roles", "manage:tenant", "read:users"]},
        format="json",
        **_key(clear),
    )

    assert_envelope(response, 403, "ROLE_TOO_HIGH")
    provisioner.refresh_from_db()
    assert provisioner.permissions == ["manage:roles", "read:users", "write:users"]


# ----- which credential decides ------------------------------------------------------------


def test_with_a_key_and_a_session_the_key_decides_where_keys_are_taken(api_client, world):
    """A member's metered key beside an admin's session token: the key is judged, and
    it opens no management; the admin's session does not lend it anything."""
    member_key = apikey_create(user=world.member, name="ci", actor=world.member).clear
    admin_session = _session(api_client, world.users["tenant_admin"])

    response = api_client.post(
        USERS,
        _new_user("mixed"),
        format="json",
        HTTP_X_API_KEY=member_key,
        **admin_session,
    )

    assert_envelope(response, 403, "API_KEY_SCOPE_MISSING")
    assert not User.objects.filter(username="mixed").exists()


def test_a_key_of_a_deactivated_tenant_stops_at_once(api_client, world, admin_key):
    assert api_client.get(USERS, **_key(admin_key)).status_code == 200  # owner cached
    root_session = world.auth("platform_admin")

    deactivated = api_client.delete(f"/api/v1/tenants/{world.tenant_a.pk}", **root_session)

    assert deactivated.status_code == 200, deactivated.content
    assert_envelope(api_client.get(USERS, **_key(admin_key)), 401, "TENANT_INACTIVE")


def test_the_django_admin_takes_no_key(api_client, world, admin_key):
    response = api_client.get("/admin/accounts/user/", **_key(admin_key))

    assert response.status_code == 302 and "/login" in response["Location"]


# ----- bad input never answers 500 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", f"{USERS}/99999999999999999999999", None),
        ("patch", f"{USERS}/99999999999999999999999", {"name": "x"}),
        ("post", f"{USERS}/{{member}}/roles", {"role": None}),
        ("post", f"{USERS}/{{member}}/roles", {"role": ["admin"]}),
        ("post", f"{USERS}/{{member}}/status", {"status": "deleted"}),
        ("post", f"{USERS}/{{member}}/status", ["suspended"]),
        ("post", USERS, ["not", "an", "object"]),
        ("post", USERS, {"email": "x", "username": "", "password": 5, "tenant_id": "abc"}),
        ("patch", f"{USERS}/{{member}}", {"preferences": "all"}),
        ("patch", f"{USERS}/{{member}}", {"phone": "+999"}),
        ("post", ROLES, {"name": "r", "permissions": "read:users"}),
        ("post", ROLES, {"name": "rr", "permissions": [1, None]}),
        ("patch", f"{ROLES}/99999999999999999999999", {"description": "x"}),
        ("get", f"{USERS}?cursor=bz0xMDAwJnA9bm90LWEtbnVtYmVy", None),
        ("get", f"{USERS}?ordering=created_at&cursor=bz0wJnA9MjAyNi0xMy05OQ==", None),
        ("get", f"{USERS}?cursor=&ordering=email", None),
        ("get", f"{USERS}?page=abc", None),
        ("get", f"{USERS}?ordering=password", None),
        ("get", f"{USERS}?role=%00", None),
    ],
)
def test_bad_input_with_a_key_is_a_clear_4xx(api_client, world, admin_key, method, path, body):
    path = path.format(member=world.member.pk)

    response = getattr(api_client, method)(path, body, format="json", **_key(admin_key))

    assert 400 <= response.status_code < 500, response.content
    assert response.json()["success"] is False


@pytest.mark.parametrize(
    "scopes", [["write:users", "write"], ["write:users", "write:self"]], ids=str
)
def test_a_key_cannot_change_its_owners_profile_through_the_user_admin(api_client, world, scopes):
    """The profile is changed with a login only (`PATCH /api/v1/users/me` refuses keys);
    the user admin's update of the owner's own id is the same change by another door."""
    admin = world.users["tenant_admin"]
    clear = apikey_create(user=admin, name="p", scopes=["read:users", *scopes], actor=admin).clear

    response = api_client.patch(
        f"{USERS}/{admin.pk}",
        {"name": "Mallory", "phone": "+14155550123", "about_me": "owned"},
        format="json",
        **_key(clear),
    )

    assert_envelope(response, 403, "PERMISSION_DENIED")
    admin.refresh_from_db()
    assert admin.name != "Mallory" and admin.about_me != "owned" and not admin.phone
