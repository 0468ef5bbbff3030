"""The one answer to "may this actor do P to that object?" (every API and panel asks it).

Platform admins (super admins, staff with the platform-wide admin role) may do
anything, except deleting users, which platform power grants to super admins only.
Everyone else needs the permission string in their role, may act only
inside their own tenant, and never on someone whose role outranks their own; a role
can only be given by someone whose own role is at least as high.

Platform-admin power is granted here and nowhere else: `is_platform_admin` asks the
staff rules (`security.staff`: ADMIN_REQUIRE_MFA, IP_WHITELIST_ENABLED) of the
current request, and refuses a platform admin who breaks one with 403. So every check
below asks for that power only when the ordinary rules would say no: a platform
admin without MFA still reads and edits their own account.

A request made with an API key acts with its owner's current role permissions
narrowed to the key's scopes (`accounts.authz.keys`), never with platform power,
and reaches only accounts and roles whose management permissions the key itself
carries: it cannot give, or act on someone holding, more than it has.
"""

from accounts.authz.keys import (
    is_staff_account,
    key_scopes_of,
    management_part,
    permissions_under_key,
)
from accounts.authz.roles import BuiltinRole, Permission
from security.staff import StaffRuleBroken, staff_rule_broken_now

_BUILTIN_RANK = {
    BuiltinRole.GUEST: 0,
    BuiltinRole.USER: 1,
    BuiltinRole.MODERATOR: 2,
    BuiltinRole.ADMIN: 3,
}


def role_rank(role) -> int:
    """Built-in roles rank by name; a custom role ranks by the strongest power it holds."""
    if role is None:
        return 0
    if role.is_builtin and role.tenant_id is None:
        return _BUILTIN_RANK.get(role.name, 0)
    permissions = set(role.permissions)
    if {Permission.MANAGE_ROLES, Permission.MANAGE_TENANT, Permission.DELETE_USERS} & permissions:
        return 3
    if Permission.WRITE_USERS in permissions:
        return 2
    return 1 if permissions - {Permission.READ_SELF, Permission.READ_MODELS} else 0


def target_rank(user) -> int:
    """Support staff rank with admins: only their tenant's admins or a platform admin
    may act on a staff account."""
    return _BUILTIN_RANK[BuiltinRole.ADMIN] if user.support_level else role_rank(user.role)


def role_is_read_only(role) -> bool:
    """A role holding nothing but `read:*` permissions (the built-in guest): its
    holders may read, and write only where a view says `allows_read_only_role`."""
    if role is None:
        return False
    return all(permission.startswith("read:") for permission in role.permissions)


def role_makes_platform_admin(role, tenant_id) -> bool:
    """Whether giving `role` to an account of tenant `tenant_id` would make it a
    platform admin: the built-in admin role without a tenant. Platform admins come
    only from create-admin, `create_admin` and `createsuperuser`."""
    return (
        tenant_id is None
        and role is not None
        and role.is_builtin
        and role.tenant_id is None
        and role.name == BuiltinRole.ADMIN
    )


def role_permissions_of(user) -> frozenset[str]:
    """What the user's role holds now, whatever credential the request carries."""
    return frozenset(user.role.permissions) if user.role_id else frozenset()


def permissions_of(user) -> frozenset[str]:
    """What `user` may use in this request: their role's permissions, narrowed to
    the scopes of the API key when the request was made with a key of theirs."""
    held = role_permissions_of(user)
    scopes = key_scopes_of(user)
    return held if scopes is None else permissions_under_key(user, held, scopes)


def _key_reaches(actor, target_permissions, *, target_is_staff: bool = False) -> bool:
    """With a key, the actor acts only on what holds no management permission the
    key lacks (and never on staff accounts); with a login, this asks nothing."""
    if key_scopes_of(actor) is None:
        return True
    return not target_is_staff and management_part(target_permissions) <= permissions_of(actor)


def is_platform_admin(user) -> bool:
    """Whether `user` may use platform-admin power in this request.

    Raises StaffRuleBroken (403) for a platform admin whose request breaks a staff
    rule, so ask only where the power is needed."""
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.is_platform_admin):
        return False
    if key_scopes_of(user) is not None:
        return False  # a key never carries platform power: it acts as an ordinary account
    rule = staff_rule_broken_now(user)
    if rule is not None:
        raise StaffRuleBroken(rule, user=user)
    return True


# What platform power grants only to super admins (`is_superuser`), not to every
# platform admin.
SUPER_ADMIN_ONLY = frozenset({Permission.DELETE_USERS})


def can(actor, permission: str, target=None) -> bool:
    """Whether `actor` holds `permission` over `target` (a User, Role or Tenant, or None).

    A tenant admin's role still lets them delete inside their tenant; platform power
    deletes users only in a super admin's hands."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if _role_allows(actor, permission, target):
        return True
    if permission in SUPER_ADMIN_ONLY and not actor.is_superuser:
        return False
    return is_platform_admin(actor)


def _role_allows(actor, permission: str, target) -> bool:
    if permission not in permissions_of(actor):
        return False
    if target is None:
        return True
    if target._meta.label == "accounts.User":
        if target.pk == actor.pk:
            return True
        return (
            actor.tenant_id is not None
            and target.tenant_id == actor.tenant_id
            and target_rank(target) <= role_rank(actor.role)
            and _key_reaches(
                actor,
                role_permissions_of(target),
                target_is_staff=is_staff_account(target),
            )
        )
    target_tenant_id = target.pk if target._meta.label == "tenants.Tenant" else target.tenant_id
    return actor.tenant_id is not None and target_tenant_id == actor.tenant_id


def can_grant_role(actor, role) -> bool:
    """Giving a role needs a role at least as high, in the role's own tenant."""
    within_reach = role.tenant_id is None or role.tenant_id == actor.tenant_id
    return (
        within_reach
        and role_rank(role) <= role_rank(actor.role)
        and _key_reaches(actor, role.permissions)
    ) or is_platform_admin(actor)
