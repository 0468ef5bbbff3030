"""What an API key lets its owner do: the key half of the authorization rules.

A request made with a key acts as the key's owner with the owner's role
permissions *as they are now* narrowed to what the key's scopes allow
(`rules.permissions_of` asks `key_scopes_of`). The scopes travel in the request's
own context (`security.context.Credential.key_scopes`), never on the user object,
which the cache may hand to other requests.

Two kinds of permission:

- Management permissions act on other accounts, roles or the tenant (resource
  `users`, `roles` or `tenant`). A key carries one only when its scopes name it
  exactly: neither the generic `read`/`write` scopes nor a wildcard such as
  `write:*` grant one, so a default metered key leaked from an app administers
  nothing. Of them a key may carry only `KEY_MANAGEMENT_SCOPES`: deleting accounts
  and managing the tenant need a login session.
- Everything else (`read:self`, `read:models`, custom strings): `write` allows any,
  `read` any `read:…`, `action:*` any of that action, or the exact string; but
  never `write:self` (`KEY_NEVER_CARRIES`): one's own account changes with a login.

Platform power is never carried by a key: `rules.is_platform_admin` answers False
for a request made with the account's own key, and accounts of platform staff
(super admins, staff, support staff) get no management permission from a key.
"""

from collections.abc import Iterable
from enum import StrEnum

from accounts.authz.roles import Permission
from security.context import current_context

MANAGEMENT_RESOURCES = frozenset({"users", "roles", "tenant"})

# The management permissions a key may be given; the views that accept keys for
# management name them (`api_key_permissions`).
KEY_MANAGEMENT_SCOPES = frozenset(
    {Permission.READ_USERS.value, Permission.WRITE_USERS.value, Permission.MANAGE_ROLES.value}
)

# Changing one's own account (the profile, the billing email) needs a login session
# whatever a key's scopes say: `PATCH /api/v1/users/me` refuses keys, and the user
# admin's update of the owner's own id must not be another door to the same change.
KEY_NEVER_CARRIES = frozenset({Permission.WRITE_SELF.value})


class KeyRefusal(StrEnum):
    """Why a key may not do an operation (the API-key authentication names the code)."""

    SCOPE_MISSING = "scope_missing"
    STAFF_ACCOUNT = "staff_account"
    NOT_HELD = "not_held"


def is_management_permission(permission: str) -> bool:
    return permission.partition(":")[2] in MANAGEMENT_RESOURCES


def management_part(permissions: Iterable[str]) -> frozenset[str]:
    return frozenset(p for p in permissions if is_management_permission(p))


def scopes_allow(scopes: Iterable[str], permission: str) -> bool:
    """Whether a key with `scopes` may use `permission` (if its owner holds it)."""
    scopes = frozenset(scopes)
    if permission in scopes:
        return True
    if is_management_permission(permission):
        return False  # named exactly, or not at all
    action = permission.split(":", 1)[0]
    if f"{action}:*" in scopes or "write" in scopes:
        return True
    return "read" in scopes and action == "read"


def is_staff_account(user) -> bool:
    """Accounts whose power is the platform's: a key of theirs manages nothing."""
    return bool(user.is_superuser or user.is_staff or user.support_level)


def key_scopes_of(user) -> frozenset[str] | None:
    """The scopes of the API key the current request was made with, when `user` is
    that key's owner; None when the request did not come with `user`'s key."""
    credential = current_context().credential
    if credential is None or credential.key_scopes is None or credential.user_id != user.pk:
        return None
    return credential.key_scopes


def permissions_under_key(user, held: frozenset[str], scopes: frozenset[str]) -> frozenset[str]:
    """The owner's held permissions a request with their key may use: those its
    scopes allow but `KEY_NEVER_CARRIES`, and of the management ones only
    `KEY_MANAGEMENT_SCOPES` (a key row naming another, made before that rule, carries
    nothing of it); none for staff."""
    usable = frozenset(p for p in held if scopes_allow(scopes, p)) - KEY_NEVER_CARRIES
    management = management_part(usable)
    if is_staff_account(user):
        return usable - management
    return usable - (management - KEY_MANAGEMENT_SCOPES)


def key_refusal(
    owner, *, scopes: Iterable[str], any_of: tuple[str, ...], held: frozenset[str]
) -> tuple[KeyRefusal, str] | None:
    """Why a key with `scopes` of `owner` (who holds `held` now) may not do an
    operation needing one of `any_of`, with the permission named; None if it may.

    Only management permissions must be held by the owner here: the views check the
    rest as they do for a login."""
    scopes = frozenset(scopes)
    allowed = [p for p in any_of if scopes_allow(scopes, p)]
    if not allowed:
        return KeyRefusal.SCOPE_MISSING, " or ".join(any_of)
    if not all(is_management_permission(p) for p in allowed):
        return None
    if is_staff_account(owner):
        return KeyRefusal.STAFF_ACCOUNT, " or ".join(allowed)
    if not any(p in held for p in allowed):
        return KeyRefusal.NOT_HELD, " or ".join(allowed)
    return None
