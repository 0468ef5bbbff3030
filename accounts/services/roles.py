"""Custom roles: named sets of `action:resource` permission strings, per tenant."""

import re

from django.db import transaction

from accounts.auth.request_cache import forget_role_members
from accounts.authz import rules as authz
from accounts.authz.roles import Permission
from accounts.errors import AccountErrorCode
from accounts.models import Role, User
from core.errors import CommonErrorCode, Conflict, Forbidden, ValidationFailed
from security.models import AuditAction
from security.services.audit import audit_record, field_changes

PERMISSION_PATTERN = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_*]*$")
ROLE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{1,49}$")


def permissions_validate(permissions: list[str]) -> list[str]:
    """The permission list a role may hold, sorted and without repeats (400
    INVALID_PERMISSION for a string not written `action:resource`): for the API's
    role writes and the admin site's role form."""
    return _validate_permissions(permissions)


def _validate_permissions(permissions: list[str]) -> list[str]:
    bad = [
        item
        for item in permissions
        if not isinstance(item, str) or not PERMISSION_PATTERN.match(item)
    ]
    if bad:
        raise ValidationFailed(
            "Permissions are written action:resource, e.g. read:models.",
            errors=[f"permissions: {item!r} is not action:resource" for item in bad],
            code=AccountErrorCode.INVALID_PERMISSION,
        )
    return sorted(set(permissions))


def _check_may_manage(actor: User, tenant_id: int | None) -> None:
    if authz.is_platform_admin(actor):
        return
    if (
        tenant_id is None
        or tenant_id != actor.tenant_id
        or not authz.can(actor, Permission.MANAGE_ROLES)
    ):
        raise Forbidden("You may not manage these roles.", code=CommonErrorCode.PERMISSION_DENIED)


def _check_not_above_actor(actor: User, role: Role) -> None:
    if not authz.can_grant_role(actor, role):
        raise Forbidden("A role may not exceed your own.", code=AccountErrorCode.ROLE_TOO_HIGH)


@transaction.atomic
def role_create(
    *,
    actor: User,
    name: str,
    permissions: list[str],
    description: str = "",
    tenant_id: int | None = None,
) -> Role:
    if not authz.is_platform_admin(actor):
        tenant_id = actor.tenant_id
    _check_may_manage(actor, tenant_id)
    if not ROLE_NAME_PATTERN.match(name):
        raise ValidationFailed(
            "Role names are 2-50 lower-case letters, digits, '-' or '_'.",
            code=AccountErrorCode.INVALID_ROLE_NAME,
        )
    if Role.objects.filter(name=name, tenant_id=tenant_id).exists() or (
        Role.objects.filter(name=name, tenant__isnull=True, is_builtin=True).exists()
    ):
        raise Conflict("A role with this name exists.", code=AccountErrorCode.ROLE_EXISTS)
    role = Role(
        name=name,
        permissions=_validate_permissions(permissions),
        description=description,
        tenant_id=tenant_id,
    )
    _check_not_above_actor(actor, role)
    role.save()
    audit_record(
        action=AuditAction.ROLE_CREATE,
        actor=actor,
        target=role,
        changes={"name": name, "permissions": role.permissions},
    )
    return role


@transaction.atomic
def role_update(*, actor: User, role: Role, data: dict) -> Role:
    if role.is_builtin:
        raise Forbidden("Built-in roles cannot be changed.", code=AccountErrorCode.BUILTIN_ROLE)
    _check_may_manage(actor, role.tenant_id)
    # Both the role as it is and as it will be must be within the actor's reach: an
    # API key may not strip or change a role holding more than the key carries.
    _check_not_above_actor(actor, role)
    before = {"permissions": role.permissions, "description": role.description}
    if "permissions" in data:
        role.permissions = _validate_permissions(data["permissions"])
    if "description" in data:
        role.description = data["description"]
    _check_not_above_actor(actor, role)
    role.save()
    forget_role_members(role.pk)
    audit_record(
        action=AuditAction.ROLE_UPDATE,
        actor=actor,
        target=role,
        changes=field_changes(
            before, {"permissions": role.permissions, "description": role.description}
        ),
    )
    return role


@transaction.atomic
def role_delete(*, actor: User, role: Role) -> None:
    if role.is_builtin:
        raise Forbidden("Built-in roles cannot be deleted.", code=AccountErrorCode.BUILTIN_ROLE)
    _check_may_manage(actor, role.tenant_id)
    if role.users.exists():
        raise Conflict("The role is still assigned to users.", code=AccountErrorCode.ROLE_IN_USE)
    audit_record(
        action=AuditAction.ROLE_DELETE, actor=actor, target=role, changes={"name": role.name}
    )
    role_id = role.pk
    role.delete()
    forget_role_members(role_id)
