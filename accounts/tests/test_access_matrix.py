"""Every endpoint by every kind of caller: the allowed/denied answer of each cell.

The matrix is data: add a row when an endpoint is added. `{member}` is a plain user of
tenant A, `{tenant_admin}` the admin of tenant A, `{other_member}` a user of tenant B,
`{tenant_a}` tenant A's id, `{member_key}` an API key of `{member}`. Columns follow
ACTORS: anonymous, guest (A, read-only: any write but its password, its second factor,
its sessions and the metered API is 403 ROLE_READ_ONLY), user (A), moderator (A), tenant
admin (A), admin of tenant B, platform admin, then the platform admin breaking a staff
rule: logged in without MFA, and from an address not on the allowlist. Both staff rules
are on (ADMIN_REQUIRE_MFA, IP_WHITELIST_ENABLED with the test client's address listed),
so the matrix also shows that they change nothing for anyone but platform admins, and
that a platform admin who breaks one keeps their own account but no staff power.
"""

import pytest

from accounts.tests.world import ACTORS, STAFF_RULE_CODES, build_world
from apikeys.services import apikey_create
from security.models import IPAllowlistEntry, SecurityEvent

MATRIX = [
    # method, path, body, expected statuses per actor
    ("get", "/api/v1/users/me", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("get", "/api/v1/users", None, (401, 200, 200, 200, 200, 200, 200, 403, 403)),
    ("get", "/api/v1/users/{member}", None, (401, 404, 404, 200, 200, 404, 200, 403, 403)),
    ("get", "/api/v1/users/{other_member}", None, (401, 404, 404, 404, 404, 200, 200, 403, 403)),
    (
        "patch",
        "/api/v1/users/{member}",
        {"name": "Renamed"},
        (401, 403, 404, 200, 200, 404, 200, 403, 403),
    ),
    (
        "patch",
        "/api/v1/users/{tenant_admin}",
        {"name": "Renamed"},
        (401, 403, 404, 403, 200, 404, 200, 403, 403),
    ),
    (
        "post",
        "/api/v1/users/{member}/status",
        {"status": "suspended", "reason": "test"},
        (401, 403, 404, 200, 200, 404, 200, 403, 403),
    ),
    (
        "post",
        "/api/v1/users/{tenant_admin}/status",
        {"status": "suspended"},
        (401, 403, 404, 403, 403, 404, 200, 403, 403),
    ),
    (
        "post",
        "/api/v1/users/{member}/roles",
        {"role": "moderator"},
        (401, 403, 404, 200, 200, 404, 200, 403, 403),
    ),
    (
        "post",
        "/api/v1/users/{member}/roles",
        {"role": "admin"},
        (401, 403, 404, 403, 200, 404, 200, 403, 403),
    ),
    ("delete", "/api/v1/users/{member}", None, (401, 403, 404, 403, 200, 404, 200, 403, 403)),
    (
        "post",
        "/api/v1/users",
        {"email": "new@example.com", "username": "newbie", "password": "SecurePass123"},
        (401, 403, 403, 201, 201, 201, 201, 403, 403),
    ),
    (
        "post",
        "/api/v1/users",
        {
            "email": "new@example.com",
            "username": "newbie",
            "password": "SecurePass123",
            "role": "admin",
        },
        # the platform admin gives no tenant: an admin without one would be a platform admin
        (401, 403, 403, 403, 201, 201, 400, 403, 403),
    ),
    (
        "post",
        "/api/v1/users/bulk",
        {"ids": ["{member}"], "status": "suspended"},
        (401, 403, 400, 200, 200, 400, 200, 403, 403),
    ),
    ("get", "/api/v1/users/stats", None, (401, 403, 403, 200, 200, 200, 200, 403, 403)),
    ("get", "/api/v1/roles", None, (401, 200, 200, 200, 200, 200, 200, 403, 403)),
    (
        "post",
        "/api/v1/roles",
        {"name": "model_reader", "permissions": ["read:models"]},
        (401, 403, 403, 403, 201, 201, 201, 403, 403),
    ),
    ("get", "/api/v1/tenants", None, (401, 200, 200, 200, 200, 200, 200, 403, 403)),
    ("get", "/api/v1/tenants/{tenant_a}", None, (401, 200, 200, 200, 200, 404, 200, 403, 403)),
    (
        "patch",
        "/api/v1/tenants/{tenant_a}",
        {"description": "x"},
        (401, 403, 403, 403, 200, 404, 200, 403, 403),
    ),
    ("delete", "/api/v1/tenants/{tenant_a}", None, (401, 403, 403, 403, 403, 404, 200, 403, 403)),
    (
        "post",
        "/api/v1/tenants",
        {
            "name": "Initech",
            "admin_email": "boss@initech.example",
            "admin_username": "initech_admin",
            "admin_password": "AdminPass123",
        },
        (401, 403, 403, 403, 403, 403, 201, 403, 403),
    ),
    ("get", "/v1/admin-panel/security-logs", None, (401, 403, 403, 403, 403, 403, 200, 403, 403)),
    ("get", "/v1/admin-panel/audit-logs", None, (401, 403, 403, 403, 403, 403, 200, 403, 403)),
    ("get", "/api/v1/users/me/sessions", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    (
        "post",
        "/api/v1/users/me/sessions/revoke-others",
        None,
        (401, 200, 200, 200, 200, 200, 200, 200, 200),
    ),
    ("get", "/api/v1/users/me/export", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("get", "/api/v1/users/me/messages", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    (
        "patch",
        "/api/v1/users/me",
        {"hobbies": "chess"},
        (401, 403, 200, 200, 200, 200, 200, 200, 200),
    ),
    ("get", "/v1/users/profile", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("post", "/api/v1/auth/logout", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    (
        "post",
        "/api/v1/auth/change-password",
        {"current_password": "x", "new_password": "y"},
        (401, 400, 400, 400, 400, 400, 400, 400, 400),
    ),
    (
        "post",
        "/api/v1/auth/mfa/totp/setup",
        {"password": "wrong"},
        (401, 400, 400, 400, 400, 400, 400, 400, 400),
    ),
    (
        "post",
        "/api/v1/auth/mfa/disable",
        {"password": "wrong", "code": "1"},
        (401, 400, 400, 400, 400, 400, 400, 400, 400),
    ),
    (
        "put",
        "/v1/users/email",
        {"email": "n@example.com", "password": "wrong"},
        (401, 403, 400, 400, 400, 400, 400, 400, 400),
    ),
    ("get", "/v1/admin-panel/ip-whitelist", None, (401, 403, 403, 403, 403, 403, 200, 403, 403)),
    (
        "post",
        "/v1/admin-panel/ip-whitelist",
        {"ip_address": "10.0.0.1"},
        (401, 403, 403, 403, 403, 403, 201, 403, 403),
    ),
    ("get", "/v1/admin-panel/users", None, (401, 403, 403, 403, 403, 403, 200, 403, 403)),
    ("get", "/v1/admin-panel/users/{member}", None, (401, 403, 403, 403, 403, 403, 200, 403, 403)),
    (
        "patch",
        "/v1/admin-panel/users/{member}",
        {"name": "Renamed"},
        (401, 403, 403, 403, 403, 403, 200, 403, 403),
    ),
    ("get", "/v1/admin-panel/ip-blocks", None, (401, 403, 403, 403, 403, 403, 200, 403, 403)),
    ("get", "/v1/admin-panel/lockouts", None, (401, 403, 403, 403, 403, 403, 200, 403, 403)),
    (
        "delete",
        "/v1/admin-panel/lockouts/someone",
        None,
        (401, 403, 403, 403, 403, 403, 200, 403, 403),
    ),
    ("get", "/api/v1/users/me/preferences", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    (
        "patch",
        "/api/v1/users/me/preferences",
        {"theme": "dark"},
        (401, 403, 200, 200, 200, 200, 200, 200, 200),
    ),
    (
        "get",
        "/api/v1/users/me/preferences/history",
        None,
        (401, 200, 200, 200, 200, 200, 200, 200, 200),
    ),
    (
        "post",
        "/api/v1/users/preferences/bulk",
        {"ids": ["{member}"], "preferences": {"theme": "dark"}},
        (401, 403, 403, 200, 200, 400, 200, 403, 403),
    ),
    (
        "get",
        "/api/v1/users/{member}/profile",
        None,
        (401, 200, 200, 200, 200, 404, 200, 403, 403),
    ),
    ("get", "/v1/admin-panel/statistics", None, (401, 403, 403, 403, 403, 403, 200, 403, 403)),
    (
        "get",
        "/v1/admin-panel/message-logs/{member}",
        None,
        (401, 403, 403, 403, 403, 403, 200, 403, 403),
    ),
    ("get", "/v1/admin-panel/health", None, (401, 403, 403, 403, 403, 403, 200, 403, 403)),
    (
        "post",
        "/v1/admin-panel/create-admin",
        {
            "username": "ops2",
            "email": "ops2@example.com",
            "name": "Ops",
            "password": "AdminPass123",
        },
        (401, 403, 403, 403, 403, 403, 201, 403, 403),
    ),
    (
        "delete",
        "/v1/admin-panel/users/{member}",
        None,
        (401, 403, 403, 403, 403, 403, 200, 403, 403),
    ),
    ("get", "/api/v1/api-keys", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("post", "/api/v1/api-keys", {"name": "ci"}, (401, 403, 201, 201, 201, 201, 201, 201, 201)),
    ("get", "/api/v1/api-keys/{member_key}", None, (401, 404, 404, 200, 200, 404, 200, 403, 403)),
    (
        "delete",
        "/api/v1/api-keys/{member_key}",
        None,
        (401, 403, 404, 200, 200, 404, 200, 403, 403),
    ),
    ("get", "/v1/users/api-key", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("post", "/v1/users/api-key/regenerate", None, (401, 403, 200, 200, 200, 200, 200, 200, 200)),
    ("get", "/api/v1/users/me/credits", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    (
        "put",
        "/api/v1/users/{member}/credits",
        {"limits": {"conversation_limit": 3}},
        (401, 403, 404, 200, 200, 404, 200, 403, 403),
    ),
    # Plans and billing: nobody changes their own plan (the tenant admin's own row).
    ("get", "/api/v1/plans", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("get", "/api/v1/users/me/billing", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    (
        "put",
        "/api/v1/users/me/billing",
        {"billing_email": "billing@example.com"},
        (401, 403, 200, 200, 200, 200, 200, 200, 200),
    ),
    (
        "get",
        "/api/v1/users/me/billing/history",
        None,
        (401, 200, 200, 200, 200, 200, 200, 200, 200),
    ),
    (
        "get",
        "/api/v1/users/{member}/billing",
        None,
        (401, 404, 404, 404, 200, 404, 200, 403, 403),
    ),
    (
        "put",
        "/api/v1/users/{member}/billing",
        {"billing_email": "billing@example.com"},
        (401, 403, 404, 404, 200, 404, 200, 403, 403),
    ),
    (
        "put",
        "/api/v1/users/{member}/plan",
        {"subscription_plan": "basic"},
        (401, 403, 404, 403, 200, 404, 200, 403, 403),
    ),
    (
        "put",
        "/api/v1/users/{tenant_admin}/plan",
        {"subscription_plan": "basic"},
        (401, 403, 404, 403, 403, 404, 200, 403, 403),
    ),
    (
        "post",
        "/v1/prompt/completions",
        {"messages": [{"role": "user", "content": "hi"}]},
        (401, 200, 200, 200, 200, 200, 200, 200, 200),
    ),
    (
        "post",
        "/v1/batch/process",
        {"prompts": [{"messages": [{"role": "user", "content": "hi"}]}]},
        (401, 200, 200, 200, 200, 200, 200, 200, 200),
    ),
    # Public endpoints answer everyone alike.
    (
        "post",
        "/api/v1/auth/reset-password",
        {"email": "a@example.com"},
        (202, 202, 202, 202, 202, 202, 202, 202, 202),
    ),
    (
        "post",
        "/api/v1/auth/recover-account",
        {"email": "a@example.com"},
        (202, 202, 202, 202, 202, 202, 202, 202, 202),
    ),
    ("get", "/health", None, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
]

CELLS = [
    pytest.param(method, path, body, actor, expected[index], id=f"{method} {path} as {actor}")
    for method, path, body, expected in MATRIX
    for index, actor in enumerate(ACTORS)
]


def _fill(value, names):
    if isinstance(value, str):
        if value in names:
            return names[value]
        for name, replacement in names.items():
            value = value.replace(name, str(replacement))
        return value
    if isinstance(value, list):
        return [_fill(item, names) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body", "actor", "expected"), CELLS)
def test_access_matrix(api_client, db, settings, method, path, body, actor, expected):
    settings.ADMIN_REQUIRE_MFA = True
    settings.IP_WHITELIST_ENABLED = True
    IPAllowlistEntry.objects.create(network="127.0.0.1", description="the test client")
    world = build_world()
    names = {
        "{member}": world.member.pk,
        "{other_member}": world.other_member.pk,
        "{tenant_admin}": world.users["tenant_admin"].pk,
        "{tenant_a}": world.tenant_a.pk,
        "{member_key}": apikey_create(user=world.member, name="member", actor=world.member).key.pk,
    }

    response = getattr(api_client, method)(
        _fill(path, names), _fill(body, names), format="json", **world.auth(actor)
    )

    assert response.status_code == expected, response.content[:400]
    if expected >= 400:
        assert response.json()["success"] is False
    if actor in STAFF_RULE_CODES and expected == 403:
        assert response.json()["error_code"] == STAFF_RULE_CODES[actor]
        assert SecurityEvent.objects.filter(
            kind=SecurityEvent.Kind.PERMISSION_DENIED,
            user_id=world.users["platform_admin"].pk,
            details__reason=STAFF_RULE_CODES[actor].lower(),
        ).exists()
