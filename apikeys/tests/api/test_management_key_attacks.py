"""Attacks on management-scoped API keys: every way a key might reach more than its
scopes, its owner's current role, or the surfaces that take a login session only.

Through HTTP against the real database and cache, as `test_management_keys` does.
"""

import pytest
from django.urls import get_resolver
from django.urls.resolvers import URLResolver

from accounts.auth.request_cache import forget_changed_user
from accounts.models import User
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
    "api/v1/^users/?$": "UserAdminViewSet",
    "api/v1/^users/bulk/?$": "UserAdminViewSet",
    "api/v1/^users/stats/?$": "UserAdminViewSet",
    "api/v1/^users/(?P<pk>\\d+)/?$": "UserAdminViewSet",
    "api/v1/^users/(?P<pk>\\d+)/roles/?$": "UserAdminViewSet",
    "api/v1/^users/(?P<pk>\\d+)/status/?$": "UserAdminViewSet",
    "api/v1/^roles/?$": "RoleViewSet",
    "api/v1/^roles/(?P<pk>\\d+)/?$": "RoleViewSet",
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
