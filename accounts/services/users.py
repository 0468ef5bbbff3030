"""Accounts as identities: registration, the profile, the status, and the user
administration of staff and tenant admins (create, change, assign roles, bulk).

Every function validates, writes in one transaction with its audit row, and raises a
domain error that the API renders; views, the admin site and commands call these.
Staff functions ask `accounts.authz.rules` before writing (403); objects outside the
actor's reach never get this far (the views look them up through `users_visible_to`).
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.auth.password_policy import password_check_policy
from accounts.auth.request_cache import forget_changed_user
from accounts.authz import rules as authz
from accounts.authz.roles import BuiltinRole, Permission
from accounts.emails import VERIFY, send_on_commit
from accounts.errors import AccountErrorCode
from accounts.models import LoginSession, Role, User, username_validator
from accounts.phones import phone_normalise
from accounts.selectors import user_email_taken, user_username_taken, users_visible_to
from accounts.services.preferences import PreferenceChange, preferences_merge
from accounts.services.sessions import sessions_revoke_for_user
from apikeys.services import apikey_regenerate_primary, revoke_all_for_user
from core.errors import CommonErrorCode, Conflict, Forbidden, NotFound, ValidationFailed
from credits.services import account_for, plan_change
from events.catalog import EventType
from events.services import user_event_record
from security.models import ActorKind, AuditAction
from security.services.audit import audit_record, field_changes, snapshot
from tenants.models import Tenant
from tenants.selectors import (
    membership_rests_on_email_domain,
    registration_allowed,
    tenant_get_active,
    tenant_settings,
)

logger = structlog.get_logger(__name__)

PROFILE_FIELDS = (
    "name",
    "first_name",
    "last_name",
    "about_me",
    "hobbies",
    "user_type",
    "phone",
)


def _phone_normalised(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with `phone`, when present, in E.164 (400 INVALID_PHONE before any write)."""
    if "phone" not in data:
        return data
    return {**data, "phone": phone_normalise(data["phone"])}


def _ensure_identity_free(*, email: str, username: str, exclude_id: int | None = None) -> None:
    clashes = []
    if user_email_taken(email, exclude_id=exclude_id):
        clashes.append("A user with this email already exists.")
    if user_username_taken(username, exclude_id=exclude_id):
        clashes.append("A user with this username already exists.")
    if clashes:
        raise Conflict(clashes[0], errors=clashes, code=AccountErrorCode.USER_EXISTS)


def _default_role() -> Role | None:
    return Role.objects.filter(name=BuiltinRole.USER, tenant__isnull=True).first()


@dataclass(frozen=True)
class Registration:
    """The new account and its primary API key, in clear this once."""

    user: User
    api_key: str


def user_register(
    *,
    username: str,
    email: str,
    password: str,
    name: str = "",
    first_name: str = "",
    last_name: str = "",
    user_type: str = User.UserType.PERSONAL,
    about_me: str = "",
    hobbies: str = "",
    tenant_id: int | None = None,
) -> Registration:
    """Create an ordinary account through self-registration, with its primary API key
    and its credit account.

    A tenant that admits members by email domain gets them only once the address is
    proven: the account starts `pending` and verifying the address activates it; with
    EMAIL_VERIFICATION_ENABLED off nothing could prove it, so the registration is refused.
    """
    if not settings.USER_REGISTRATION_ENABLED:
        raise Forbidden("Registration is closed.", code=AccountErrorCode.REGISTRATION_DISABLED)
    email = email.strip().lower()
    tenant, role = None, _default_role()
    status = User.Status.ACTIVE
    if tenant_id is not None:
        tenant = tenant_get_active(tenant_id=tenant_id)
        if tenant is None:
            raise ValidationFailed("Unknown tenant.", code=AccountErrorCode.UNKNOWN_TENANT)
        if not registration_allowed(tenant, email):
            raise Forbidden(
                "This organisation does not take self-registration for this address.",
                code=AccountErrorCode.TENANT_REGISTRATION_CLOSED,
            )
        if membership_rests_on_email_domain(tenant):
            if not settings.EMAIL_VERIFICATION_ENABLED:
                raise Forbidden(
                    "This organisation admits members by email domain, which only a "
                    "verified address proves; email verification is off here.",
                    code=AccountErrorCode.EMAIL_VERIFICATION_REQUIRED,
                )
            status = User.Status.PENDING
        default_role = tenant_settings(tenant)["default_role"]
        role = (
            Role.objects.filter(name=default_role, tenant=tenant).first()
            or Role.objects.filter(name=default_role, tenant__isnull=True).first()
            or role
        )
    user = User(
        username=username,
        email=email,
        name=name or f"{first_name} {last_name}".strip(),
        first_name=first_name,
        last_name=last_name,
        user_type=user_type,
        about_me=about_me,
        hobbies=hobbies,
        tenant=tenant,
        role=role,
        status=status,
        is_verified=not settings.EMAIL_VERIFICATION_ENABLED,
    )
    password_check_policy(password, user=user)
    _ensure_identity_free(email=email, username=username)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    try:
        with transaction.atomic():
            user.save()
            audit_record(
                action=AuditAction.USER_REGISTER,
                actor=user,
                actor_kind=ActorKind.USER,
                target=user,
                changes={"username": user.username, "email": user.email},
            )
            api_key = apikey_regenerate_primary(user=user, actor=user).clear
            account_for(user)
            _registered_event(actor=user, user=user, source="self")
    except IntegrityError as exc:
        # Two registrations raced past the check above; the unique index decided.
        raise Conflict(
            "A user with this email or username already exists.", code=AccountErrorCode.USER_EXISTS
        ) from exc
    if settings.EMAIL_VERIFICATION_ENABLED:
        send_on_commit(user, VERIFY)
    logger.info("user_registered", user_id=user.pk)
    return Registration(user=user, api_key=api_key)


@transaction.atomic
def user_update_profile(*, user: User, actor: User, data: dict[str, Any]) -> User:
    """Change a profile (the caller's own, `actor=user`); only profile fields are ever written.

    `preferences` is merged into the stored choices as `PATCH
    /api/v1/users/me/preferences` does, with the same checks and history; `phone` is
    stored in E.164 ("" clears it).
    """
    data = _phone_normalised(data)
    _preferences_merged(actor=actor, user=user, data=data)
    before = snapshot(user, list(PROFILE_FIELDS))
    changed = []
    for field in PROFILE_FIELDS:
        if field in data and getattr(user, field) != data[field]:
            setattr(user, field, data[field])
            changed.append(field)
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
        forget_changed_user(user, changed)
        audit_record(
            action=AuditAction.USER_PROFILE_UPDATE,
            actor=actor,
            actor_kind=ActorKind.USER if actor.pk == user.pk else None,
            target=user,
            changes=field_changes(
                {field: before[field] for field in changed}, snapshot(user, changed)
            ),
        )
        user_event_record(actor=actor, type=EventType.USER_UPDATED, user=user, fields=changed)
        logger.info("user_profile_updated", user_id=user.pk, fields=changed)
    return user


def _preferences_merged(*, actor: User, user: User, data: dict[str, Any]) -> None:
    """`preferences` of a profile or staff update, merged into the stored choices as
    `PATCH /api/v1/users/me/preferences` does, with the same checks and history."""
    if "preferences" in data:
        preferences_merge(
            user=user,
            actor=actor,
            patch=data["preferences"],
            source=_preference_source(actor, user),
            prefix="preferences.",
        )


def _preference_source(actor: User | None, user: User) -> str:
    return (
        PreferenceChange.Source.SELF
        if actor and actor.pk == user.pk
        else PreferenceChange.Source.STAFF
    )


# The key of the PostgreSQL advisory lock that puts changes taking out a superuser in
# a line (any number; this one spells "su" and "lo").
_SUPERUSER_LOCK_KEY = 0x7375_6C6F


def _superuser_changes_serialize() -> None:
    """Until the transaction ends, no other change that may take out a superuser runs:
    two admins suspending (or deleting) each other at once would each see the other
    still active and leave no superuser. Taken before any user row lock, so it never
    waits behind one. SQLite writes one transaction at a time anyway."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SUPERUSER_LOCK_KEY])


def guard_against_lockout(*, actor: User | None, user: User, self_service: bool = False) -> None:
    """Refuse a change that takes `user` out of the running (suspends, deletes, demotes
    or un-staffs it) when it is the actor's own account (403 SELF_LOCKOUT; not for
    `self_service`, the owner deleting their account with the password) or the last
    active superuser (409 LAST_SUPERUSER, whoever asks, the system included): nobody
    locks themselves out, and the admin site always keeps someone who can run it.
    Every path calls this: the status, role and bulk services, staff deletion and the
    admin site's forms."""
    if not self_service and actor is not None and getattr(actor, "pk", None) == user.pk:
        raise Forbidden(
            "You may not suspend, demote or delete your own account; ask another administrator.",
            code=AccountErrorCode.SELF_LOCKOUT,
        )
    if not User.objects.filter(pk=user.pk, is_superuser=True, status=User.Status.ACTIVE).exists():
        return
    _superuser_changes_serialize()
    others = User.objects.filter(is_superuser=True, status=User.Status.ACTIVE).exclude(pk=user.pk)
    if not others.exists():
        raise Conflict(
            "This is the last active superuser: make another one first.",
            code=AccountErrorCode.LAST_SUPERUSER,
        )


def _status_check_assignable(status: str) -> None:
    """A status an account may be given; unknown values are refused."""
    if status not in User.Status.values:
        raise ValidationFailed(f"Unknown status {status!r}.", code=AccountErrorCode.INVALID_STATUS)


@transaction.atomic
def user_status_set(
    *, user: User, status: str, actor: User | None, reason: str = "", self_service: bool = False
) -> User:
    """The one way an account's status changes (admin form and actions, API, bulk,
    deletion, recovery).

    Leaving `active` ends every login session and revokes every API key at once, so
    re-activation revives no old token or key: the owner logs in again and makes new
    keys. Deleting records who deleted it and the status it had, which recovery gives
    back. An active account is never taken out by its own staff action nor when it is
    the last active superuser (`guard_against_lockout`; `self_service`: the owner
    deleting it with the password).
    """
    _status_check_assignable(status)
    if user.is_superuser:
        _superuser_changes_serialize()  # before the row lock, as `guard_against_lockout`
    locked = User.objects.select_for_update().get(pk=user.pk)
    previous = locked.status
    if status == previous:
        return user
    if previous == User.Status.ACTIVE:
        guard_against_lockout(actor=actor, user=locked, self_service=self_service)
    fields = ["status", "updated_at"]
    user.status = status
    if status == User.Status.DELETED:
        user.deleted_at = timezone.now()
        user.deleted_by = actor if getattr(actor, "pk", None) else None
        user.status_before_deletion = previous
        fields += ["deleted_at", "deleted_by", "status_before_deletion"]
    elif previous == User.Status.DELETED:
        user.deleted_at, user.deleted_by, user.status_before_deletion = None, None, ""
        fields += ["deleted_at", "deleted_by", "status_before_deletion"]
    user.save(update_fields=fields)
    forget_changed_user(user, fields)
    changes = field_changes({"status": previous}, {"status": status})
    audit_record(
        action=AuditAction.USER_STATUS_CHANGE,
        actor=actor,
        actor_kind=ActorKind.USER if getattr(actor, "pk", None) == user.pk else None,
        target=user,
        changes={**changes, "reason": reason} if reason else changes,
    )
    _status_event(actor=actor, user=user, status=status, previous=previous, reason=reason)
    if status != User.Status.ACTIVE:
        sessions_revoke_for_user(
            user=user, reason=LoginSession.RevokeReason.STATUS_CHANGE, actor=actor
        )
        revoke_all_for_user(user=user, actor=actor)
    logger.info("user_status_changed", user_id=user.pk, status=status, previous=previous)
    return user


# What people may change on their own record through this API (the profile).
SELF_EDITABLE = ("name", "first_name", "last_name", "about_me", "hobbies", "phone")
STAFF_EDITABLE = (
    "name",
    "first_name",
    "last_name",
    "about_me",
    "hobbies",
    "phone",
    "user_type",
    "is_verified",
)


def _require(actor: User, permission: Permission, target=None) -> None:
    if not authz.can(actor, permission, target):
        raise Forbidden("You may not do that.", code=CommonErrorCode.PERMISSION_DENIED)


def role_check_tenant(*, role: Role, tenant_id: int | None) -> None:
    """The built-in admin role needs a tenant: without one it would make a platform
    admin, and those come only from `POST /v1/admin-panel/create-admin`,
    `manage.py create_admin` and `createsuperuser`, never from giving a role (the API,
    the admin panel, a bulk change, an import)."""
    if authz.role_makes_platform_admin(role, tenant_id):
        raise ValidationFailed(
            "The admin role is given only to a member of a tenant; platform "
            "administrators are created with POST /v1/admin-panel/create-admin or "
            "`manage.py create_admin`.",
            code=AccountErrorCode.ADMIN_ROLE_NEEDS_TENANT,
        )


def role_by_name(*, actor: User, name: str, tenant_id: int | None) -> Role:
    """A role the target's tenant can use: its own custom role, else a built-in one."""
    role = (
        Role.objects.filter(name=name, tenant_id=tenant_id).first() if tenant_id else None
    ) or Role.objects.filter(name=name, tenant__isnull=True).first()
    if role is None:
        raise ValidationFailed(f"Unknown role {name!r}.", code=AccountErrorCode.UNKNOWN_ROLE)
    if not authz.can_grant_role(actor, role):
        raise Forbidden(
            "You may not grant a role above your own.", code=AccountErrorCode.ROLE_TOO_HIGH
        )
    role_check_tenant(role=role, tenant_id=tenant_id)
    return role


@transaction.atomic
def user_create_by_admin(*, actor: User, data: dict[str, Any]) -> User:
    """Create an account for someone (the user admin API, the admin site's "Add user",
    a tenant's first admin): the role (`user` unless named), the password policy, an
    audit row, the primary API key and the credit account, in one transaction."""
    _require(actor, Permission.WRITE_USERS)
    tenant_id = data.get("tenant_id")
    if not authz.is_platform_admin(actor):
        tenant_id = actor.tenant_id  # tenant admins create inside their own tenant only
    elif tenant_id is not None and not Tenant.objects.filter(pk=tenant_id).exists():
        raise ValidationFailed("Unknown tenant.", code=AccountErrorCode.UNKNOWN_TENANT)
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
    _ensure_identity_free(email=email, username=user.username)
    user.set_password(data["password"])
    user.password_changed_at = timezone.now()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict(
            "A user with this email or username already exists.", code=AccountErrorCode.USER_EXISTS
        ) from exc
    audit_record(
        action=AuditAction.USER_CREATE,
        actor=actor,
        target=user,
        changes={"username": user.username, "role": role.name, "tenant_id": tenant_id},
    )
    # As a registration: a primary API key (its owner reads or regenerates it) and a
    # credit account, so the API, the admin site and tenant creation give the same account.
    apikey_regenerate_primary(user=user, actor=actor)
    account_for(user)
    _registered_event(actor=actor, user=user, source="admin")
    return user


def _registered_event(*, actor: User, user: User, source: str) -> None:
    # No email: the event reaches tenant webhooks, which the member's privacy
    # choices (`privacy.show_email`) do not govern.
    user_event_record(
        actor=actor,
        type=EventType.USER_REGISTERED,
        user=user,
        username=user.username,
        status=user.status,
        source=source,
    )


def _status_event(*, actor, user: User, status: str, previous: str, reason: str) -> None:
    if status == User.Status.SUSPENDED:
        user_event_record(
            actor=actor,
            type=EventType.USER_SUSPENDED,
            user=user,
            status=status,
            previous_status=previous,
            reason=reason,
        )
    elif status == User.Status.DELETED:
        user_event_record(actor=actor, type=EventType.USER_DELETED, user=user, erased=False)
    else:
        user_event_record(actor=actor, type=EventType.USER_UPDATED, user=user, fields=["status"])


def _staff_account_save(
    *,
    user: User,
    password: str,
    actor: User | None,
    action: AuditAction,
    changes: dict,
    with_credit_account: bool = False,
) -> None:
    """Save a new staff account built by the caller: the password policy (400
    WEAK_PASSWORD), a free email and username (409 USER_EXISTS, also when a racing
    request takes them first), and its audit row in the same transaction."""
    password_check_policy(password, user=user)
    _ensure_identity_free(email=user.email, username=user.username)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    try:
        with transaction.atomic():
            user.save()
            audit_record(action=action, actor=actor, target=user, changes=changes)
            if with_credit_account:
                account_for(user)
    except IntegrityError as exc:
        raise Conflict(
            "A user with this email or username already exists.", code=AccountErrorCode.USER_EXISTS
        ) from exc


def support_staff_account_create(
    *,
    actor: User,
    username: str,
    email: str,
    password: str,
    name: str,
    support_level: str,
    tenant_id: int | None,
) -> User:
    """A support staff account in `tenant_id` (None: every tenant), for a caller that
    has decided the actor may make it (`support.services`). It gets the read-only guest
    role and, unlike a registration, no API key and no credit account; the password
    policy and the uniqueness of email and username apply as everywhere."""
    if support_level not in User.SupportLevel.values:
        raise ValidationFailed(f"Unknown staff level {support_level!r}.")
    email = email.strip().lower()
    user = User(
        username=username,
        email=email,
        name=name,
        tenant_id=tenant_id,
        role=Role.objects.filter(name=BuiltinRole.GUEST, tenant__isnull=True).first(),
        support_level=support_level,
        status=User.Status.ACTIVE,
        is_verified=True,
    )
    _staff_account_save(
        user=user,
        password=password,
        actor=actor,
        action=AuditAction.SUPPORT_STAFF_CREATE,
        changes={"username": username, "support_level": support_level, "tenant_id": tenant_id},
    )
    logger.info("support_staff_created", user_id=user.pk, level=support_level)
    return user


@transaction.atomic
def user_update_by_admin(*, actor: User, user: User, data: dict[str, Any]) -> User:
    _require(actor, Permission.WRITE_USERS if actor.pk != user.pk else Permission.WRITE_SELF, user)
    if actor.pk == user.pk and (
        (data.get("status") and data["status"] != user.status)
        or (data.get("role") and data["role"] != user.role_name)
    ):
        guard_against_lockout(actor=actor, user=user)
    staff_fields = set(data) - set(SELF_EDITABLE)
    if actor.pk == user.pk and staff_fields and not authz.is_platform_admin(actor):
        data = {key: value for key, value in data.items() if key in SELF_EDITABLE}
    # The plan first: an unknown one refuses the update before anything else is written,
    # and it changes the credit account too (`plan_change`, its own role check).
    if data.get("subscription_plan"):
        plan_change(actor=actor, user=user, plan=data["subscription_plan"])
    _preferences_merged(actor=actor, user=user, data=data)
    user_fields_set_on_behalf(actor=actor, user=user, data=data)
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
def user_fields_set_on_behalf(*, actor: User, user: User, data: dict[str, Any]) -> User:
    """Write the STAFF_EDITABLE fields named in `data` (others are ignored) with one
    audit row, without a role check: for `user_update_by_admin` and for callers that
    decide by their own rule that the actor may (the support levels of `/v1/support`)."""
    data = _phone_normalised(data)
    fields = [name for name in STAFF_EDITABLE if name in data]
    before = snapshot(user, fields)
    for name in fields:
        setattr(user, name, data[name])
    if fields:
        user.save(update_fields=[*fields, "updated_at"])
        forget_changed_user(user, fields)
        audit_record(
            action=AuditAction.USER_UPDATE,
            actor=actor,
            target=user,
            changes=field_changes(before, snapshot(user, fields)),
        )
        user_event_record(actor=actor, type=EventType.USER_UPDATED, user=user, fields=fields)
    return user


@transaction.atomic
def user_billing_email_set(*, actor: User, user: User, billing_email: str) -> User:
    """Set (or clear, with "") where the user's invoices go: the owner (`write:self`)
    or, as for the plan, those who manage the user's tenant (`write:users` and
    `manage:tenant` over them). The caller validates the
    address; one audit row with the old and the new value."""
    if actor.pk == user.pk:
        _require(actor, Permission.WRITE_SELF, user)
    else:
        _require(actor, Permission.WRITE_USERS, user)
        _require(actor, Permission.MANAGE_TENANT, user)
    billing_email = billing_email.strip()
    if billing_email == user.billing_email:
        return user
    before = user.billing_email
    user.billing_email = billing_email
    user.save(update_fields=["billing_email", "updated_at"])
    forget_changed_user(user, ["billing_email"])
    audit_record(
        action=AuditAction.USER_BILLING_EMAIL_CHANGE,
        actor=actor,
        actor_kind=ActorKind.USER if actor.pk == user.pk else None,
        target=user,
        changes={"billing_email": {"before": before, "after": billing_email}},
    )
    user_event_record(actor=actor, type=EventType.USER_UPDATED, user=user, fields=["billing_email"])
    return user


@transaction.atomic
def user_assign_role(*, actor: User, user: User, role_name: str) -> User:
    _require(actor, Permission.WRITE_USERS, user)
    role = role_by_name(actor=actor, name=role_name, tenant_id=user.tenant_id)
    if role.pk != user.role_id:
        guard_against_lockout(actor=actor, user=user)
    previous = user.role.name if user.role_id else None
    user.role = role
    user.save(update_fields=["role", "updated_at"])
    forget_changed_user(user, ["role"])
    audit_record(
        action=AuditAction.USER_ROLE_ASSIGN,
        actor=actor,
        target=user,
        changes={"role": {"before": previous, "after": role.name}},
    )
    user_event_record(
        actor=actor,
        type=EventType.ROLE_ASSIGNED,
        user=user,
        role=role.name,
        previous_role=previous,
    )
    return user


@transaction.atomic
def user_change_status(*, actor: User, user: User, status: str, reason: str = "") -> User:
    _require(actor, Permission.WRITE_USERS, user)
    if actor.pk == user.pk:
        guard_against_lockout(actor=actor, user=user)
    if status not in {User.Status.ACTIVE, User.Status.SUSPENDED, User.Status.PENDING}:
        raise ValidationFailed(f"Unknown status {status!r}.", code=AccountErrorCode.INVALID_STATUS)
    return user_status_set(user=user, status=status, actor=actor, reason=reason)


@dataclass
class BulkResult:
    updated: list[int] = dataclasses.field(default_factory=list)
    errors: list[dict] = dataclasses.field(default_factory=list)


def users_bulk_update(
    *, actor: User, user_ids: list[int], status: str | None, role: str | None, reason: str = ""
) -> BulkResult:
    """Change status and/or role of many users: all of them or none.

    Every item is checked first; any refusal fails the whole request with the
    per-item list, and nothing is written.
    """
    if not status and not role:
        raise ValidationFailed(
            "Give a status, a role, or both.", code=AccountErrorCode.NOTHING_TO_DO
        )
    visible = {user.pk: user for user in users_visible_to(actor).filter(pk__in=user_ids)}
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
            except (Forbidden, ValidationFailed, NotFound, Conflict) as error:
                result.errors.append({"id": user_id, "error": error.message, "code": error.code})
        if result.errors:
            transaction.set_rollback(True)
    if result.errors:
        raise ValidationFailed(
            "Nothing was changed: some items were refused.",
            errors=[f"{item['id']}: {item['error']}" for item in result.errors],
            code=AccountErrorCode.BULK_REFUSED,
            extra={"items": result.errors},
        )
    return result


def _require_super_admin(actor: User | None) -> None:
    """Only a super admin (or the system: a command run on the server) makes admins."""
    if actor is None:
        return
    if not (getattr(actor, "is_superuser", False) and authz.is_platform_admin(actor)):
        raise Forbidden(
            "Only super admins may create or change admins.",
            code=CommonErrorCode.PERMISSION_DENIED,
        )


def _platform_admin_role() -> Role | None:
    return Role.objects.filter(name=BuiltinRole.ADMIN, tenant__isnull=True).first()


def platform_admin_create(
    *,
    actor: User | None,
    username: str,
    email: str,
    name: str,
    password: str,
    super_admin: bool = False,
) -> User:
    """Create a platform admin as `createsuperuser` makes one: active, verified, staff,
    no tenant, the built-in `admin` role, and a super admin when `super_admin`; with
    its credit account, as a registration has.

    Only super admins may (403 PERMISSION_DENIED); `actor=None` is the system (the
    `create_admin` command). The password policy applies (400 WEAK_PASSWORD); a taken
    username or email is 409 USER_EXISTS.
    """
    _require_super_admin(actor)
    # The API's body checks it too; the command has only this rule. A name holding
    # "@" would be read as an email at login, another account's.
    try:
        username_validator(username)
    except DjangoValidationError as error:
        raise ValidationFailed(" ".join(error.messages)) from error
    email = email.strip().lower()
    user = User(
        username=username,
        email=email,
        name=name,
        status=User.Status.ACTIVE,
        is_verified=True,
        is_staff=True,
        is_superuser=super_admin,
        tenant=None,
        role=_platform_admin_role(),
    )
    _staff_account_save(
        user=user,
        password=password,
        actor=actor,
        action=AuditAction.PLATFORM_ADMIN_CREATE,
        changes={"username": username, "email": email, "super_admin": super_admin},
        with_credit_account=True,
    )
    logger.info("platform_admin_created", user_id=user.pk, super_admin=super_admin)
    return user


def platform_admin_update(
    *,
    actor: User | None,
    user: User,
    password: str,
    super_admin: bool = False,
    name: str = "",
) -> User:
    """Make an existing account a platform admin with this password, idempotently.

    The flags, role and name are set as `platform_admin_create` sets them; a new
    password ends every session of the account, the same password changes nothing.
    An account of a tenant is refused: it would
    leave its tenant (400 VALIDATION_ERROR). Only super admins or the system
    (`actor=None`) may. Without `super_admin` a super admin is demoted, which the last
    active superuser never is (409 LAST_SUPERUSER, `guard_against_lockout`).
    """
    _require_super_admin(actor)
    if user.tenant_id is not None:
        raise ValidationFailed("This account belongs to a tenant; a platform admin has none.")
    password_check_policy(password, user=user)
    wanted = {
        "is_staff": True,
        "is_superuser": super_admin,
        "is_verified": True,
        "role": _platform_admin_role(),
    }
    if name:
        wanted["name"] = name
    with transaction.atomic():
        if not super_admin:  # no demotion of the last active superuser (409 LAST_SUPERUSER)
            guard_against_lockout(actor=actor, user=user)
        locked = User.objects.select_for_update().get(pk=user.pk)
        fields = [field for field, value in wanted.items() if getattr(locked, field) != value]
        before = snapshot(locked, fields)
        for field in fields:
            setattr(locked, field, wanted[field])
        password_changed = not locked.check_password(password)
        if password_changed:
            locked.set_password(password)
            locked.password_changed_at = timezone.now()
            fields += ["password", "password_changed_at"]
        if not fields:
            return locked
        locked.save(update_fields=[*fields, "updated_at"])
        forget_changed_user(locked, fields)
        changes = field_changes(
            {field: str(value) if field == "role" else value for field, value in before.items()},
            {field: str(wanted[field]) if field == "role" else wanted[field] for field in before},
        )
        if password_changed:
            changes["password"] = {"changed": True}
        audit_record(
            action=AuditAction.PLATFORM_ADMIN_UPDATE, actor=actor, target=locked, changes=changes
        )
        if password_changed:
            sessions_revoke_for_user(
                user=locked, reason=LoginSession.RevokeReason.PASSWORD_CHANGE, actor=actor
            )
    logger.info("platform_admin_updated", user_id=locked.pk, fields=fields)
    return locked
