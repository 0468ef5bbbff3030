"""User administration by staff and tenant admins: create, change, assign roles, bulk.

Every function takes the acting user, asks `accounts.authz` before writing, and
audits in the same transaction. Refusals are 403; objects outside the actor's
reach never get this far (the views look them up through `users_visible_to`).
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import authz
from accounts.models import Role, User
from accounts.roles import BuiltinRole, Permission
from accounts.services import (
    ensure_identity_free,
    password_check_policy,
    user_status_set,
)
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from security.services.audit import audit_record, field_changes, snapshot
from tenants.models import Tenant

# What people may change on their own record through this API (the profile).
SELF_EDITABLE = ("name", "first_name", "last_name", "about_me", "hobbies")
STAFF_EDITABLE = (
    "name",
    "first_name",
    "last_name",
    "about_me",
    "hobbies",
    "user_type",
    "subscription_plan",
    "is_verified",
)


def _require(actor: User, permission: str, target=None) -> None:
    if not authz.can(actor, permission, target):
        raise Forbidden("You may not do that.", code="PERMISSION_DENIED")


def role_by_name(*, actor: User, name: str, tenant_id: int | None) -> Role:
    """A role the target's tenant can use: its own custom role, else a built-in one."""
    role = (
        Role.objects.filter(name=name, tenant_id=tenant_id).first() if tenant_id else None
    ) or Role.objects.filter(name=name, tenant__isnull=True).first()
    if role is None:
        raise ValidationFailed(f"Unknown role {name!r}.", code="UNKNOWN_ROLE")
    if not authz.can_grant_role(actor, role):
        raise Forbidden("You may not grant a role above your own.", code="ROLE_TOO_HIGH")
    return role


@transaction.atomic
def user_create_by_admin(*, actor: User, data: dict[str, Any]) -> User:
    _require(actor, Permission.WRITE_USERS)
    tenant_id = data.get("tenant_id")
    if not authz.is_platform_admin(actor):
        tenant_id = actor.tenant_id  # tenant admins create inside their own tenant only
    elif tenant_id is not None and not Tenant.objects.filter(pk=tenant_id).exists():
        raise ValidationFailed("Unknown tenant.", code="UNKNOWN_TENANT")
    role = role_by_name(actor=actor, name=data.get("role") or BuiltinRole.USER, tenant_id=tenant_id)
    email = data["email"].strip().lower()
    user = User(
        username=data["username"],
        email=email,
        name=data.get("name", ""),
        first_name=data.get("first_name", ""),
        last_name=data.get("last_name", ""),
        tenant_id=tenant_id,
        role=role,
        status=data.get("status") or User.Status.ACTIVE,
        is_verified=data.get("is_verified", True),
    )
    password_check_policy(data["password"], user=user)
    ensure_identity_free(email=email, username=user.username)
    user.set_password(data["password"])
    user.password_changed_at = timezone.now()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict(
            "A user with this email or username already exists.", code="USER_EXISTS"
        ) from exc
    audit_record(
        action="user.create",
        actor=actor,
        target=user,
        changes={"username": user.username, "role": role.name, "tenant_id": tenant_id},
    )
    return user


@transaction.atomic
def user_update_by_admin(*, actor: User, user: User, data: dict[str, Any]) -> User:
    _require(actor, Permission.WRITE_USERS if actor.pk != user.pk else Permission.WRITE_SELF, user)
    staff_fields = set(data) - set(SELF_EDITABLE)
    if actor.pk == user.pk and staff_fields and not authz.is_platform_admin(actor):
        data = {key: value for key, value in data.items() if key in SELF_EDITABLE}
    fields = [name for name in STAFF_EDITABLE if name in data]
    before = snapshot(user, fields)
    for name in fields:
        setattr(user, name, data[name])
    if fields:
        user.save(update_fields=[*fields, "updated_at"])
        audit_record(
            action="user.update",
            actor=actor,
            target=user,
            changes=field_changes(before, snapshot(user, fields)),
        )
    if "role" in data and data["role"] and actor.pk != user.pk:
        user_assign_role(actor=actor, user=user, role_name=data["role"])
    if (
        "status" in data
        and data["status"]
        and data["status"] != user.status
        and actor.pk != user.pk
    ):
        user_change_status(actor=actor, user=user, status=data["status"])
    return user


@transaction.atomic
def user_assign_role(*, actor: User, user: User, role_name: str) -> User:
    _require(actor, Permission.WRITE_USERS, user)
    role = role_by_name(actor=actor, name=role_name, tenant_id=user.tenant_id)
    previous = user.role.name if user.role_id else None
    user.role = role
    user.save(update_fields=["role", "updated_at"])
    audit_record(
        action="user.role_assign",
        actor=actor,
        target=user,
        changes={"role": {"before": previous, "after": role.name}},
    )
    return user


@transaction.atomic
def user_change_status(*, actor: User, user: User, status: str, reason: str = "") -> User:
    _require(actor, Permission.WRITE_USERS, user)
    if actor.pk == user.pk:
        raise Forbidden("You may not change your own status.", code="PERMISSION_DENIED")
    if status not in {User.Status.ACTIVE, User.Status.SUSPENDED, User.Status.PENDING}:
        raise ValidationFailed(f"Unknown status {status!r}.", code="INVALID_STATUS")
    return user_status_set(user=user, status=status, actor=actor, reason=reason)


@dataclass
class BulkResult:
    updated: list[int] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)


def users_bulk_update(
    *, actor: User, user_ids: list[int], status: str | None, role: str | None, reason: str = ""
) -> BulkResult:
    """Change status and/or role of many users: all of them or none.

    Every item is checked first; any refusal fails the whole request with the
    per-item list, and nothing is written.
    """
    if not status and not role:
        raise ValidationFailed("Give a status, a role, or both.", code="NOTHING_TO_DO")
    visible = {user.pk: user for user in authz.users_visible_to(actor).filter(pk__in=user_ids)}
    result = BulkResult()
    with transaction.atomic():
        for user_id in user_ids:
            user = visible.get(user_id)
            if user is None:
                result.errors.append({"id": user_id, "error": "Not found."})
                continue
            try:
                with transaction.atomic():
                    if role:
                        user_assign_role(actor=actor, user=user, role_name=role)
                    if status:
                        user_change_status(actor=actor, user=user, status=status, reason=reason)
                result.updated.append(user_id)
            except (Forbidden, ValidationFailed, NotFound) as error:
                result.errors.append({"id": user_id, "error": error.message, "code": error.code})
        if result.errors:
            transaction.set_rollback(True)
    if result.errors:
        raise ValidationFailed(
            "Nothing was changed: some items were refused.",
            errors=[f"{item['id']}: {item['error']}" for item in result.errors],
            code="BULK_REFUSED",
            extra={"items": result.errors},
        )
    return result
