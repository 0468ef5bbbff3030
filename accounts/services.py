"""Writes to accounts: registration, profile, password, status.

Every function validates, writes in one transaction and raises a domain error
from `config.errors` that the API renders; views, admin and commands call these.
"""

from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.contrib.auth import password_validation
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
from apikeys.services import apikey_regenerate_primary
from config.errors import Conflict, Forbidden, ValidationFailed
from credits.services import account_for
from security.audit import audit_record, field_changes, snapshot
from security.models import ActorKind
from tenants.selectors import registration_allowed, tenant_get_active, tenant_settings

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


def password_reauthenticate(user: User, password: str) -> None:
    """Sensitive changes (email, password, MFA) need the current password again."""
    if not password or not user.check_password(password):
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
    and its credit account."""
    if not settings.USER_REGISTRATION_ENABLED:
        raise Forbidden("Registration is closed.", code="REGISTRATION_DISABLED")
    email = email.strip().lower()
    tenant, role = None, _default_role()
    if tenant_id is not None:
        tenant = tenant_get_active(tenant_id=tenant_id)
        if tenant is None:
            raise ValidationFailed("Unknown tenant.", code="UNKNOWN_TENANT")
        if not registration_allowed(tenant, email):
            raise Forbidden(
                "This organisation does not take self-registration for this address.",
                code="TENANT_REGISTRATION_CLOSED",
            )
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
            api_key = apikey_regenerate_primary(user=user).clear
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
    *, user: User, current_password: str, new_password: str, client: ClientInfo
) -> TokenPair:
    """Set a new password after proving the current one.

    Every login session of the account is revoked, the caller's included, and a
    fresh session is returned so the caller stays logged in.
    """
    password_reauthenticate(user, current_password)
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


@transaction.atomic
def user_set_status(*, user: User, status: str, actor=None) -> User:
    """Activate, suspend or park an account; leaving `active` ends every session."""
    if status not in User.Status.values:
        raise ValidationFailed(f"Unknown status {status!r}.", code="INVALID_STATUS")
    previous = user.status
    user.status = status
    user.save(update_fields=["status", "updated_at"])
    audit_record(
        action="user.status_change",
        actor=actor,
        target=user,
        changes=field_changes({"status": previous}, {"status": status}),
    )
    if status != User.Status.ACTIVE:
        sessions_revoke_for_user(
            user=user, reason=LoginSession.RevokeReason.STATUS_CHANGE, actor=actor
        )
    logger.info("user_status_changed", user_id=user.pk, status=status)
    return user
