"""Writes to accounts: registration, profile, password, status.

Every function validates, writes in one transaction and raises a domain error
from `core.errors` that the API renders; views, admin and commands call these.
"""

from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.contrib.auth import password_validation, user_login_failed
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import emails
from accounts.models import LoginSession, Role, User
from accounts.notify import send_on_commit
from accounts.preferences import check_preferences
from accounts.roles import BuiltinRole
from accounts.selectors import user_email_taken, user_username_taken
from accounts.sessions import ClientInfo, session_start, sessions_revoke_for_user
from accounts.tokens import TokenPair
from apikeys.services import apikey_regenerate_primary, revoke_all_for_user
from core.errors import Conflict, Forbidden, ValidationFailed
from credits.services import account_for
from security import ratelimits
from security.lockout import locked_error, user_locked_until
from security.models import ActorKind
from security.services.audit import audit_record, field_changes, snapshot
from tenants.selectors import (
    membership_rests_on_email_domain,
    registration_allowed,
    tenant_get_active,
    tenant_settings,
)

logger = structlog.get_logger(__name__)

PROFILE_FIELDS = ("name", "first_name", "last_name", "about_me", "hobbies", "user_type")


def password_check_policy(password: str, *, user: User) -> None:
    """Raise ValidationFailed listing every rule the password breaks."""
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationFailed(
            "Password does not meet the password policy.",
            errors=list(exc.messages),
            code="WEAK_PASSWORD",
        ) from exc


class PasswordPurpose:
    """Why a logged-in user is asked for the password again (in the security event)."""

    EMAIL_CHANGE = "email_change"
    ACCOUNT_DELETE = "account_delete"
    PASSWORD_CHANGE = "password_change"  # noqa: S105 - a purpose, not a password
    MFA_SETUP = "mfa_setup"
    MFA_DISABLE = "mfa_disable"
    MFA_RECOVERY_CODES = "mfa_recovery_codes"


def password_confirm(*, request, user: User, password: str, purpose: str) -> None:
    """A logged-in user proves the password again before a sensitive change.

    Counted as a login is: the per-user limit (PASSWORD_CONFIRM_PER_USER) applies, a
    locked account is 423 even with the right password, and a wrong password is a
    failure of the account's lockout with a security event. Call it outside any
    transaction, so a refusal rolled back by the caller stays counted.
    """
    ratelimits.enforce(request, ratelimits.PASSWORD_CONFIRM_PER_USER)
    locked_until = user_locked_until(user)
    if locked_until is not None:
        raise locked_error(locked_until)
    if password and user.check_password(password):
        return
    user_login_failed.send(
        sender=User,
        credentials={"username": user.username},
        request=request,
        user=user,
        purpose=purpose,
    )
    locked_until = user_locked_until(user)
    if locked_until is not None:
        raise locked_error(locked_until)
    raise ValidationFailed("Current password is incorrect.", code="INVALID_CURRENT_PASSWORD")


def ensure_identity_free(*, email: str, username: str, exclude_id: int | None = None) -> None:
    clashes = []
    if user_email_taken(email, exclude_id=exclude_id):
        clashes.append("A user with this email already exists.")
    if user_username_taken(username, exclude_id=exclude_id):
        clashes.append("A user with this username already exists.")
    if clashes:
        raise Conflict(clashes[0], errors=clashes, code="USER_EXISTS")


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
        raise Forbidden("Registration is closed.", code="REGISTRATION_DISABLED")
    email = email.strip().lower()
    tenant, role = None, _default_role()
    status = User.Status.ACTIVE
    if tenant_id is not None:
        tenant = tenant_get_active(tenant_id=tenant_id)
        if tenant is None:
            raise ValidationFailed("Unknown tenant.", code="UNKNOWN_TENANT")
        if not registration_allowed(tenant, email):
            raise Forbidden(
                "This organisation does not take self-registration for this address.",
                code="TENANT_REGISTRATION_CLOSED",
            )
        if membership_rests_on_email_domain(tenant):
            if not settings.EMAIL_VERIFICATION_ENABLED:
                raise Forbidden(
                    "This organisation admits members by email domain, which only a "
                    "verified address proves; email verification is off here.",
                    code="EMAIL_VERIFICATION_REQUIRED",
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
    ensure_identity_free(email=email, username=username)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    try:
        with transaction.atomic():
            user.save()
            audit_record(
                action="user.register",
                actor=user,
                actor_kind=ActorKind.USER,
                target=user,
                changes={"username": user.username, "email": user.email},
            )
            api_key = apikey_regenerate_primary(user=user, actor=user).clear
            account_for(user)
    except IntegrityError as exc:
        # Two registrations raced past the check above; the unique index decided.
        raise Conflict(
            "A user with this email or username already exists.", code="USER_EXISTS"
        ) from exc
    if settings.EMAIL_VERIFICATION_ENABLED:
        send_on_commit(user, emails.VERIFY)
    logger.info("user_registered", user_id=user.pk)
    return Registration(user=user, api_key=api_key)


@transaction.atomic
def user_update_profile(*, user: User, data: dict[str, Any]) -> User:
    """Change the caller's own profile; only profile fields are ever written.

    `preferences` is merged key by key into the stored preferences.
    """
    before = snapshot(user, [*PROFILE_FIELDS, "preferences"])
    changed = []
    for field in PROFILE_FIELDS:
        if field in data and getattr(user, field) != data[field]:
            setattr(user, field, data[field])
            changed.append(field)
    if "preferences" in data:
        merged = {**user.preferences, **data["preferences"]}
        check_preferences(merged)
        if merged != user.preferences:
            user.preferences = merged
            changed.append("preferences")
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
        audit_record(
            action="user.profile_update",
            actor=user,
            actor_kind=ActorKind.USER,
            target=user,
            changes=field_changes(
                {field: before[field] for field in changed}, snapshot(user, changed)
            ),
        )
        logger.info("user_profile_updated", user_id=user.pk, fields=changed)
    return user


def password_replace(*, user: User, new_password: str, action: str) -> None:
    """Store a policy-checked password, audit it, and end every session of the account."""
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at", "updated_at"])
    audit_record(
        action=action,
        actor=user,
        actor_kind=ActorKind.USER,
        target=user,
        changes={"password": {"changed": True}},
    )
    sessions_revoke_for_user(
        user=user, reason=LoginSession.RevokeReason.PASSWORD_CHANGE, actor=user
    )


def password_change(
    *, request, user: User, current_password: str, new_password: str, client: ClientInfo
) -> TokenPair:
    """Set a new password after proving the current one.

    Every login session of the account is revoked, the caller's included, and a
    fresh session is returned so the caller stays logged in.
    """
    password_confirm(
        request=request,
        user=user,
        password=current_password,
        purpose=PasswordPurpose.PASSWORD_CHANGE,
    )
    if current_password == new_password:
        raise ValidationFailed(
            "The new password must differ from the current one.", code="PASSWORD_UNCHANGED"
        )
    password_check_policy(new_password, user=user)
    with transaction.atomic():
        password_replace(user=user, new_password=new_password, action="user.password_change")
        pair = session_start(user=user, client=client)
    logger.info("password_changed", user_id=user.pk)
    return pair


def status_check_assignable(status: str) -> None:
    """A status an account may be given; unknown values are refused."""
    if status not in User.Status.values:
        raise ValidationFailed(f"Unknown status {status!r}.", code="INVALID_STATUS")


@transaction.atomic
def user_status_set(*, user: User, status: str, actor, reason: str = "") -> User:
    """The one way an account's status changes (admin form and actions, API, bulk,
    deletion, recovery).

    Leaving `active` ends every login session and revokes every API key at once, so
    re-activation revives no old token or key: the owner logs in again and makes new
    keys. Deleting records who deleted it and the status it had, which recovery gives
    back.
    """
    status_check_assignable(status)
    locked = User.objects.select_for_update().get(pk=user.pk)
    previous = locked.status
    if status == previous:
        return user
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
    changes = field_changes({"status": previous}, {"status": status})
    audit_record(
        action="user.status_change",
        actor=actor,
        actor_kind=ActorKind.USER if getattr(actor, "pk", None) == user.pk else None,
        target=user,
        changes={**changes, "reason": reason} if reason else changes,
    )
    if status != User.Status.ACTIVE:
        sessions_revoke_for_user(
            user=user, reason=LoginSession.RevokeReason.STATUS_CHANGE, actor=actor
        )
        revoke_all_for_user(user=user, actor=actor)
    logger.info("user_status_changed", user_id=user.pk, status=status, previous=previous)
    return user
