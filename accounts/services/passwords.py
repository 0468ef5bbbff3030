"""Passwords of logged-in users: proving it again before a sensitive change, changing
it, and replacing it (every session of the account ends)."""

import structlog
from django.contrib.auth import user_login_failed
from django.db import transaction
from django.utils import timezone

from accounts.auth.jwt_tokens import TokenPair
from accounts.auth.password_policy import password_check_policy
from accounts.auth.request_cache import forget_cached_user
from accounts.errors import AccountErrorCode
from accounts.models import LoginSession, User
from accounts.services.sessions import ClientInfo, session_start, sessions_revoke_for_user
from core.errors import ValidationFailed
from security import ratelimits
from security.lockout import locked_error, user_locked_until
from security.models import ActorKind, AuditAction
from security.services.audit import audit_record

logger = structlog.get_logger(__name__)


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
    raise ValidationFailed(
        "Current password is incorrect.", code=AccountErrorCode.INVALID_CURRENT_PASSWORD
    )


def password_replace(*, user: User, actor: User, new_password: str, action: AuditAction) -> None:
    """Store a policy-checked password, audit it as done by `actor`, and end every session
    of the account."""
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    fields = ["password", "password_changed_at", "updated_at"]
    user.save(update_fields=fields)
    # The cached row is never used to check a password, and the end of the sessions
    # below is strict itself: the copy is dropped on a best-effort basis.
    forget_cached_user(user.pk, must_succeed=False)
    audit_record(
        action=action,
        actor=actor,
        actor_kind=ActorKind.USER if actor.pk == user.pk else None,
        target=user,
        changes={"password": {"changed": True}},
    )
    sessions_revoke_for_user(
        user=user, reason=LoginSession.RevokeReason.PASSWORD_CHANGE, actor=actor
    )


def password_change(
    *,
    request,
    user: User,
    actor: User,
    current_password: str,
    new_password: str,
    client: ClientInfo,
    session_id: str | None = None,
) -> TokenPair:
    """Set a new password after proving the current one.

    Every login session of the account is revoked, the caller's included, and a
    fresh session is returned so the caller stays logged in: opened by the same login
    as the caller's session `session_id` (its surface and `remember_me`, so its tokens
    live as long and a staff cap still applies), whichever API the change came through.
    MFA is not carried over: the change proved only the password.
    """
    password_confirm(
        request=request,
        user=user,
        password=current_password,
        purpose=PasswordPurpose.PASSWORD_CHANGE,
    )
    if current_password == new_password:
        raise ValidationFailed(
            "The new password must differ from the current one.",
            code=AccountErrorCode.PASSWORD_UNCHANGED,
        )
    password_check_policy(new_password, user=user)
    caller = (
        LoginSession.objects.filter(pk=session_id, user=user)
        .values("surface", "remember_me")
        .first()
        if session_id
        else None
    ) or {"surface": LoginSession.Surface.API, "remember_me": False}
    with transaction.atomic():
        password_replace(
            user=user,
            actor=actor,
            new_password=new_password,
            action=AuditAction.USER_PASSWORD_CHANGE,
        )
        pair = session_start(
            user=user,
            client=client,
            surface=caller["surface"],
            remember_me=caller["remember_me"],
        )
    logger.info("password_changed", user_id=user.pk)
    return pair
