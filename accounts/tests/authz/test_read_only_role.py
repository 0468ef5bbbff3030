"""A role holding only `read:*` permissions (the built-in guest) reads and writes nothing.

The refusal lives in the authentication every credential passes, so the route walk
below sends each write method of every route in the URLconf as a guest, with a
session token and with an API key: a route added later is refused too, unless its
view opens itself with `allows_read_only_role` and is listed in READ_ONLY_ROLE_WRITES.
"""

import pytest
from django.urls import resolve

from accounts.authz.roles import BuiltinRole
from accounts.models import Role, User
from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import RoleFactory, UserFactory
from accounts.tests.helpers import ME_URL, PASSWORD, assert_envelope, bearer, enrol, login
from apikeys.models import APIKey
from apikeys.services import apikey_regenerate_primary
from core.tests.test_bad_input import api_routes
from credits.services import account_for
from tenants.models import Tenant

WRITE_METHODS = ("post", "put", "patch", "delete")
# The writes a read-only role may make: its password and second factor, its sessions,
# the metered API.
READ_ONLY_ROLE_WRITES = {
    ("post", "/api/v1/auth/mfa/totp/setup/"),
    ("post", "/api/v1/auth/mfa/totp/confirm/"),
    ("post", "/api/v1/auth/mfa/recovery-codes/"),
    ("post", "/api/v1/auth/mfa/disable/"),
    ("post", "/api/v1/auth/logout/"),
    ("post", "/v1/users/logout/"),
    ("post", "/api/v1/auth/change-password/"),
    ("post", "/api/v1/users/me/change-password/"),
    ("put", "/v1/users/password/"),
    ("post", "/api/v1/users/me/sessions/revoke-others/"),
    ("delete", "/api/v1/users/me/sessions/00000000-0000-0000-0000-000000000000/"),
    ("post", "/v1/prompt/completions/"),
    ("post", "/v1/batch/process/"),
    ("post", "/v1/chat/completions/"),
}
# The support staff's own views decide for themselves who reaches them.
READ_ONLY_ROLE_PREFIXES = ("/v1/support/",)


def _view_class(path: str):
    match = resolve(path)
    return match.func.cls if hasattr(match.func, "cls") else match.func.view_class


def _key_opens(method: str, path: str) -> bool:
    """Whether an API key is taken for this operation: the view accepts keys and, when
    it lists the operations it takes them for (`api_key_permissions`), lists this one."""
    view = _view_class(path)
    if not getattr(view, "accepts_api_keys", False):
        return False
    declared = getattr(view, "api_key_permissions", None)
    if declared is None:
        return True
    actions = getattr(resolve(path).func, "actions", None)
    return (actions[method] if actions is not None else method) in declared


def _serves(path: str, method: str) -> bool:
    match = resolve(path)
    actions = getattr(match.func, "actions", None)
    if actions is not None:
        return method in actions
    view = _view_class(path)
    return method in view.http_method_names and hasattr(view, method)


def _write_routes() -> list[tuple[str, str, type]]:
    """Every (method, path) a route serves with a write method, and its view."""
    writes = []
    for route in api_routes():
        path = route.path()
        for method in WRITE_METHODS:
            if _serves(path, method):
                writes.append((method, path, _view_class(path)))
    return writes


WRITES = _write_routes()
AUTHENTICATED_WRITES = [
    (method, path, view) for method, path, view in WRITES if view.authentication_classes != []
]


def _exempt(method: str, path: str) -> bool:
    return (method, path) in READ_ONLY_ROLE_WRITES or path.startswith(READ_ONLY_ROLE_PREFIXES)


@pytest.fixture
def tenant(db):
    return Tenant.objects.create(name="Acme", slug="acme")


@pytest.fixture
def guest(tenant):
    user = UserFactory(
        username="visitor", tenant=tenant, role=Role.objects.get(name=BuiltinRole.GUEST)
    )
    account_for(user)
    return user


def _session_auth(user) -> dict:
    pair = session_start(user=user, client=ClientInfo("127.0.0.1", "tests"))
    return bearer(pair.access)


def _key_auth(user) -> dict:
    return {"HTTP_X_API_KEY": apikey_regenerate_primary(user=user, actor=user).clear}


def test_the_walk_finds_the_writes_of_every_app():
    paths = {path for _, path, _ in AUTHENTICATED_WRITES}
    assert {
        "/api/v1/users/me/",
        "/v1/users/profile/",
        "/v1/users/api-key/regenerate/",
        "/api/v1/api-keys/",
        "/api/v1/tenants/1/",
        "/v1/admin-panel/users/1/",
        "/v1/prompt/completions/",
    } <= paths
    assert len(AUTHENTICATED_WRITES) > 40


def test_only_the_declared_views_open_themselves_to_read_only_roles():
    opened = {
        (method, path)
        for method, path, view in AUTHENTICATED_WRITES
        if getattr(view, "allows_read_only_role", False)
        and not path.startswith(READ_ONLY_ROLE_PREFIXES)
    }

    assert opened == READ_ONLY_ROLE_WRITES


REFUSED_WRITES = [
    (method, path) for method, path, _ in AUTHENTICATED_WRITES if not _exempt(method, path)
]


@pytest.mark.parametrize(
    ("method", "path"), REFUSED_WRITES, ids=[f"{method} {path}" for method, path in REFUSED_WRITES]
)
@pytest.mark.parametrize("credential", ["session token", "API key"])
def test_every_other_write_is_refused_to_a_guest(api_client, guest, method, path, credential):
    auth = _session_auth(guest) if credential == "session token" else _key_auth(guest)
    accepts_keys = _key_opens(method, path)

    response = getattr(api_client, method)(path, {}, format="json", **auth)

    if credential == "API key" and not accepts_keys:
        assert_envelope(response, 401, "API_KEY_NOT_ACCEPTED")
    else:
        assert_envelope(response, 403, "ROLE_READ_ONLY")


# ----- the writes of the REST and /v1 surfaces one by one ---------------------------


@pytest.fixture
def guest_auth(api_client, guest):
    return bearer(login(api_client, guest.email)["access_token"])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("put", ME_URL, {"name": "Renamed"}),
        ("patch", ME_URL, {"name": "Renamed"}),
        ("put", "/v1/users/profile", {"name": "Renamed"}),
        ("post", "/v1/users/api-key/regenerate", None),
        ("post", "/api/v1/api-keys", {"name": "mine"}),
        ("put", "/v1/users/email", {"email": "new@example.com", "password": PASSWORD}),
    ],
)
def test_a_guest_cannot_change_its_account(api_client, guest, guest_auth, method, path, body):
    keys_before = APIKey.objects.filter(user=guest).count()

    response = getattr(api_client, method)(path, body, format="json", **guest_auth)

    assert_envelope(response, 403, "ROLE_READ_ONLY")
    guest.refresh_from_db()
    assert guest.name != "Renamed" and guest.email == "visitor@example.com"
    assert APIKey.objects.filter(user=guest).count() == keys_before
    assert not guest.totpdevice_set.exists()


def test_a_guest_secures_its_login_with_a_second_factor(api_client, guest):
    """Support staff hold the guest role: they must be able to enrol MFA."""
    enrol(api_client, guest)

    assert guest.totpdevice_set.filter(confirmed=True).exists()


@pytest.mark.parametrize("path", [ME_URL, "/v1/users/account"])
def test_a_guest_cannot_delete_its_account(api_client, guest, guest_auth, path):
    response = api_client.delete(path, {"password": PASSWORD}, format="json", **guest_auth)

    assert_envelope(response, 403, "ROLE_READ_ONLY")
    guest.refresh_from_db()
    assert guest.status == User.Status.ACTIVE


def test_a_guest_cannot_revoke_its_api_key(api_client, guest, guest_auth):
    key = apikey_regenerate_primary(user=guest, actor=guest).key

    response = api_client.delete(f"/api/v1/api-keys/{key.pk}", format="json", **guest_auth)

    assert_envelope(response, 403, "ROLE_READ_ONLY")
    key.refresh_from_db()
    assert key.revoked_at is None


@pytest.mark.parametrize("path", [ME_URL, "/v1/users/profile", "/v1/users/api-key"])
def test_a_guest_reads_its_account(api_client, guest_auth, path):
    assert api_client.get(path, **guest_auth).status_code == 200
    assert api_client.head(path, **guest_auth).status_code == 200
    assert api_client.options(path, **guest_auth).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("post", "/api/v1/auth/change-password", "current_password"),
        ("post", "/api/v1/users/me/change-password", "current_password"),
        ("put", "/v1/users/password", "current_password"),
    ],
)
def test_a_guest_changes_its_password(api_client, guest, guest_auth, method, path, field):
    response = getattr(api_client, method)(
        path, {field: PASSWORD, "new_password": "BrandNewPass456"}, format="json", **guest_auth
    )

    assert response.status_code == 200, response.json()
    guest.refresh_from_db()
    assert guest.check_password("BrandNewPass456")


@pytest.mark.parametrize("path", ["/api/v1/auth/logout", "/v1/users/logout"])
def test_a_guest_logs_out(api_client, guest_auth, path):
    assert api_client.post(path, format="json", **guest_auth).status_code == 200

    assert_envelope(api_client.get(ME_URL, **guest_auth), 401, "SESSION_REVOKED")


def test_a_guest_refreshes_its_session(api_client, guest):
    tokens = login(api_client, guest.email)

    response = api_client.post(
        "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json"
    )

    assert response.status_code == 200
    assert api_client.get(ME_URL, **bearer(response.json()["access_token"])).status_code == 200


def test_a_guest_ends_its_other_sessions(api_client, guest, guest_auth):
    other = _session_auth(guest)

    response = api_client.post("/api/v1/users/me/sessions/revoke-others", **guest_auth)

    assert response.status_code == 200
    assert_envelope(api_client.get(ME_URL, **other), 401, "SESSION_REVOKED")


@pytest.mark.parametrize("credential", ["session token", "API key"])
def test_a_guest_with_credits_calls_the_models(api_client, guest, credential):
    auth = _session_auth(guest) if credential == "session token" else _key_auth(guest)

    response = api_client.post(
        "/v1/prompt/completions",
        {"messages": [{"role": "user", "content": "hi"}]},
        format="json",
        **auth,
    )

    assert response.status_code == 200, response.json()


# ----- read-only is what a role holds, not what it is called ------------------------


def test_a_custom_role_with_only_read_permissions_is_read_only(api_client, tenant):
    reader = RoleFactory(name="reader", tenant=tenant, permissions=["read:self", "read:models"])
    user = UserFactory(tenant=tenant, role=reader)

    response = api_client.patch(ME_URL, {"name": "Renamed"}, format="json", **_session_auth(user))

    assert_envelope(response, 403, "ROLE_READ_ONLY")


def test_a_role_called_guest_that_may_write_is_not_read_only(api_client, tenant):
    writer = RoleFactory(name="guest", tenant=tenant, permissions=["read:self", "write:self"])
    user = UserFactory(tenant=tenant, role=writer)

    response = api_client.patch(ME_URL, {"name": "Renamed"}, format="json", **_session_auth(user))

    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Renamed"


def test_a_guest_given_a_writing_role_writes_at_once(api_client, guest, tenant):
    auth = _session_auth(guest)
    admin = UserFactory(tenant=tenant, role=Role.objects.get(name=BuiltinRole.ADMIN))
    promoted = api_client.post(
        f"/api/v1/users/{guest.pk}/roles", {"role": "user"}, format="json", **_session_auth(admin)
    )
    assert promoted.status_code == 200, promoted.json()

    response = api_client.patch(ME_URL, {"name": "Renamed"}, format="json", **auth)

    assert response.status_code == 200, response.json()


def test_the_builtin_guest_role_holds_only_read_permissions(db):
    guest_role = Role.objects.get(name=BuiltinRole.GUEST, tenant__isnull=True)

    assert guest_role.permissions and all(p.startswith("read:") for p in guest_role.permissions)
