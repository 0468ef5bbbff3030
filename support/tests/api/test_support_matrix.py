"""Every support staff level and reach, by every /v1/support/users route, by every kind
of target, with the expected answer DERIVED from `support.levels.LEVEL_RIGHTS`:

- the level lacks the route's right: 403 with the route's refusal code;
- the target is outside the staff member's reach (another tenant's user for staff of
  tenant A; a tenant-less platform admin too): 404;
- the target is protected (tenant admin, moderator, other staff, platform admin, the
  staff member themself): 403 SUPPORT_TARGET_PROTECTED;
- else the route's success status.

Then every route by callers who are not support staff, and the staff-wide routes.
"""

from dataclasses import dataclass

import pytest

from accounts.errors import AccountErrorCode
from accounts.models import User
from accounts.tests.world import ACTORS
from apikeys.services import apikey_create
from support.errors import SupportErrorCode
from support.levels import FIELD_RIGHTS, LEVEL_RIGHTS, SupportRight
from support.tests.helpers import LEVELS, REACHES, build_staff_world, staff_name


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str  # {id} is the target's id, {key} one of the target's API keys
    right: SupportRight
    body: dict | None = None
    success: int = 200
    refusal: str = SupportErrorCode.SUPPORT_RIGHT_MISSING


def _edit(field: str, value) -> Route:
    return Route(
        f"put {field}",
        "put",
        "/v1/support/users/{id}",
        FIELD_RIGHTS[field],
        {field: value},
        refusal=SupportErrorCode.SUPPORT_FIELD_NOT_EDITABLE,
    )


ROUTES = [
    Route("detail", "get", "/v1/support/users/{id}", SupportRight.VIEW_USERS),
    _edit("email", "changed-{id}@example.com"),
    _edit("subscription_plan", "premium"),
    _edit("name", "Renamed Person"),
    _edit("status", "suspended"),
    Route(
        "reset-password",
        "post",
        "/v1/support/users/{id}/reset-password",
        SupportRight.RESET_PASSWORD,
        {"new_password": "BrandNewPass456"},
    ),
    Route(
        "credits",
        "put",
        "/v1/support/users/{id}/credits",
        SupportRight.EDIT_CREDITS,
        {"credits": {"main": 50, "reset": 50}, "limits": {"conversation_limit": 50, "reset": 50}},
    ),
    Route(
        "plan",
        "put",
        "/v1/support/users/{id}/plan",
        SupportRight.EDIT_PLAN,
        {"subscription_plan": "basic"},
    ),
    Route("messages", "get", "/v1/support/users/{id}/messages", SupportRight.READ_MESSAGES),
    Route("api-keys", "get", "/v1/support/users/{id}/api-keys", SupportRight.MANAGE_API_KEYS),
    Route(
        "revoke",
        "post",
        "/v1/support/users/{id}/api-keys/{key}/revoke",
        SupportRight.MANAGE_API_KEYS,
    ),
    Route(
        "regenerate",
        "post",
        "/v1/support/users/{id}/api-keys/{key}/regenerate",
        SupportRight.MANAGE_API_KEYS,
    ),
]

# Kinds of target: (is it in the reach of tenant-A staff, of every-tenant staff,
# is it protected).
TARGETS = {
    "own_tenant_user": (True, True, False),
    "other_tenant_user": (False, True, False),
    "tenant_admin": (True, True, True),
    "moderator": (True, True, True),
    "peer_staff": (True, True, True),
    "platform_admin": (False, True, True),
    "self": (True, True, True),
}


def expected(level: str, reach: str, route: Route, target: str) -> tuple[int, str | None]:
    if route.right not in LEVEL_RIGHTS[level]:
        return 403, route.refusal
    in_tenant_reach, in_global_reach, protected = TARGETS[target]
    if not (in_tenant_reach if reach == "tenant" else in_global_reach):
        return 404, "NOT_FOUND"
    if protected:
        return 403, SupportErrorCode.SUPPORT_TARGET_PROTECTED
    return route.success, None


def _targets(staff_world, me):
    world = staff_world.world
    peer = next(user for name, user in staff_world.staff.items() if user.tenant_id and user != me)
    return {
        "own_tenant_user": world.member,
        "other_tenant_user": world.other_member,
        "tenant_admin": world.users["tenant_admin"],
        "moderator": world.users["moderator"],
        "peer_staff": peer,
        "platform_admin": world.users["platform_admin"],
        "self": me,
    }


def _fill(value, names: dict):
    if isinstance(value, str):
        for name, replacement in names.items():
            value = value.replace(name, str(replacement))
        return value
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    return value


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
@pytest.mark.parametrize("reach", REACHES)
@pytest.mark.parametrize("level", LEVELS)
def test_support_matrix(api_client, db, level, reach, route):
    staff_world = build_staff_world()
    me = staff_world.staff[staff_name(level, reach)]
    auth = staff_world.auth(staff_name(level, reach))
    failures = []
    for target_kind, target in _targets(staff_world, me).items():
        key = apikey_create(user=target, name="matrix", actor=target).key
        names = {"{id}": target.pk, "{key}": key.pk}
        response = getattr(api_client, route.method)(
            _fill(route.path, names), _fill(route.body, names), format="json", **auth
        )
        status, code = expected(level, reach, route, target_kind)
        body = response.json()
        if response.status_code != status or (code and body.get("error_code") != code):
            failures.append(
                f"{target_kind}: {response.status_code} {body}, expected {status} {code}"
            )
    assert failures == []


NON_STAFF = [actor for actor in ACTORS if actor in {"guest", "user", "moderator", "tenant_admin"}]


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_support_routes_refuse_everyone_but_support_staff(api_client, db, route):
    """Anonymous callers are 401; members, tenant admins and platform admins 403: being
    an admin elsewhere gives no support right."""
    staff_world = build_staff_world()
    world = staff_world.world
    key = apikey_create(user=world.member, name="matrix", actor=world.member).key
    names = {"{id}": world.member.pk, "{key}": key.pk}
    path, body = _fill(route.path, names), _fill(route.body, names)
    for actor in ["anonymous", *NON_STAFF, "platform_admin"]:
        response = getattr(api_client, route.method)(
            path, body, format="json", **staff_world.auth(actor)
        )
        want = 401 if actor == "anonymous" else 403
        assert response.status_code == want, (actor, response.content)
        if want == 403:
            assert response.json()["error_code"] == SupportErrorCode.SUPPORT_STAFF_ONLY


def test_an_api_key_opens_no_support_route(api_client, db):
    """Support routes take a session token only, even a staff member's own key is refused."""
    staff_world = build_staff_world()
    staff = staff_world.staff[staff_name("advanced", "global")]
    clear = apikey_create(user=staff, name="stray", actor=staff).clear
    response = api_client.get("/v1/support/users", HTTP_AUTHORIZATION=f"Bearer {clear}")
    assert response.status_code == 401


@pytest.mark.parametrize("reach", REACHES)
@pytest.mark.parametrize("level", LEVELS)
def test_staff_wide_routes_by_level(api_client, db, level, reach):
    staff_world = build_staff_world()
    auth = staff_world.auth(staff_name(level, reach))
    for path in ("/v1/support/profile", "/v1/support/permissions", "/v1/support/users"):
        want = (
            200
            if path != "/v1/support/users" or SupportRight.VIEW_USERS in LEVEL_RIGHTS[level]
            else 403
        )
        assert api_client.get(path, **auth).status_code == want, path
    created = api_client.post(
        "/v1/support/create",
        {
            "username": "another_staff",
            "name": "Another Staff",
            "email": "another@example.com",
            "password": "SupportPass123",
            "staff_level": "new",
        },
        format="json",
        **auth,
    )
    # Staff hold the read-only guest role: the write stops there.
    assert created.status_code == 403
    assert created.json()["error_code"] == AccountErrorCode.ROLE_READ_ONLY
    assert not User.objects.filter(username="another_staff").exists()


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("anonymous", 401),
        ("guest", 403),
        ("user", 403),
        ("moderator", 403),
        ("other_admin", 201),
        ("tenant_admin", 201),
        ("platform_admin", 201),
    ],
)
def test_who_may_create_support_staff(api_client, db, actor, status):
    staff_world = build_staff_world()
    response = api_client.post(
        "/v1/support/create",
        {
            "username": "new_staff",
            "name": "New Staff",
            "email": "new-staff@example.com",
            "password": "SupportPass123",
            "staff_level": "support",
        },
        format="json",
        **staff_world.auth(actor),
    )
    assert response.status_code == status, response.content
