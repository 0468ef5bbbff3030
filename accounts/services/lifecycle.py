"""The account lifecycle: verification, email change, password reset, deletion,
recovery, purge, and the housekeeping of login sessions.

Emails leave through a Celery task scheduled on commit, so a rolled-back change
never sends one. Answers to "send me a link" requests never reveal whether an
account exists.
"""

from datetime import timedelta

import structlog
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import emails
from accounts.auth import email_tokens
from accounts.auth.password_policy import password_check_policy
from accounts.auth.request_cache import forget_cached_users, forget_changed_user
from accounts.authz import rules as authz
from accounts.authz.roles import Permission
from accounts.avatars import avatar_files_delete_on_commit
from accounts.emails import send_on_commit
from accounts.errors import AccountErrorCode
from accounts.models import LoginSession, MfaChallenge, User
from accounts.selectors import (
    login_sessions_active_for_user,
    other_sessions_of,
    user_email_taken,
)
from accounts.services.passwords import PasswordPurpose, password_confirm, password_replace
from accounts.services.sessions import sessions_revoke_each, sessions_revoke_for_user
from accounts.services.users import guard_against_lockout, user_status_set
from apikeys.services import revoke_all_for_user
from core.errors import CommonErrorCode, Conflict, Forbidden, ValidationFailed
from events.catalog import EventType
from events.services import user_event_record
from messagelog import services as message_log
from security.models import ActorKind, AuditAction, AuditLog
from security.services.audit import audit_record

logger = structlog.get_logger(__name__)

PURGE_BATCH_SIZE = 500


# ----- email verification and change ------------------------------------------------


@transaction.atomic
def email_verify(*, token: str) -> User:
    """Mark the address in the token verified (and switch to it, for an email change).

    An account that has never been verified and is pending (a registration into a
    tenant that admits members by email domain) becomes active: its address is proven.
    """
    user = email_tokens.email_verification_user(token)
    if user is None:
        raise ValidationFailed(
            "The verification token is invalid or expired.", code=AccountErrorCode.INVALID_TOKEN
        )
    user = User.objects.select_for_update().get(pk=user.pk)
    changes: dict = {"is_verified": {"before": user.is_verified, "after": True}}
    if user.pending_email:
        if user_email_taken(user.pending_email, exclude_id=user.pk):
            raise Conflict("That email address is taken.", code=AccountErrorCode.USER_EXISTS)
        changes["email"] = {"before": user.email, "after": user.pending_email}
        user.email, user.pending_email = user.pending_email, ""
    activates = not user.is_verified and user.status == User.Status.PENDING
    user.is_verified = True
    user.save(update_fields=["email", "pending_email", "is_verified", "updated_at"])
    forget_changed_user(user, ["email", "pending_email", "is_verified"])
    audit_record(
        action=AuditAction.USER_EMAIL_VERIFIED,
        actor=user,
        actor_kind=ActorKind.USER,
        target=user,
        changes=changes,
    )
    if activates:
        user_status_set(
            user=user, status=User.Status.ACTIVE, actor=user, reason="email address verified"
        )
    return user


def email_change(
    *, request, user: User, actor: User, new_email: str, password: str, current_session_id: str
) -> bool:
    """Change the address after proving the password.

    The old address is told, and every other session of the account ends (the
    caller's stays). Returns True when the change waits for the new address to be
    verified.
    """
    password_confirm(
        request=request, user=user, password=password, purpose=PasswordPurpose.EMAIL_CHANGE
    )
    return email_set_on_behalf(
        user=user, actor=actor, new_email=new_email, keep_session_id=current_session_id
    )


def email_set_on_behalf(
    *, user: User, actor: User, new_email: str, keep_session_id: str | None = None
) -> bool:
    """`email_change` without the password step, for a caller that has decided by its
    own rule that the actor may (the support levels of `/v1/support`): the same
    uniqueness check, verification of the new address, notice to the old one, and end
    of every session of the account but `keep_session_id`. Returns True when the
    change waits for the new address to be verified."""
    new_email = new_email.strip().lower()
    if new_email == user.email:
        raise ValidationFailed(
            "That is already the account's email address.", code=AccountErrorCode.EMAIL_UNCHANGED
        )
    if user_email_taken(new_email, exclude_id=user.pk):
        raise Conflict("That email address is taken.", code=AccountErrorCode.USER_EXISTS)
    previous = user.email
    pending = settings.EMAIL_VERIFICATION_ENABLED
    actor_kind = ActorKind.USER if actor.pk == user.pk else None
    with transaction.atomic():
        if pending:
            user.pending_email = new_email
            user.save(update_fields=["pending_email", "updated_at"])
            forget_changed_user(user, ["pending_email"])
            audit_record(
                action=AuditAction.USER_EMAIL_CHANGE_REQUESTED,
                actor=actor,
                actor_kind=actor_kind,
                target=user,
                changes={"pending_email": new_email},
            )
            send_on_commit(user, emails.VERIFY)
        else:
            user.email = new_email
            try:
                with transaction.atomic():
                    user.save(update_fields=["email", "updated_at"])
            except IntegrityError as exc:
                raise Conflict(
                    "That email address is taken.", code=AccountErrorCode.USER_EXISTS
                ) from exc
            forget_changed_user(user, ["email"])
            audit_record(
                action=AuditAction.USER_EMAIL_CHANGED,
                actor=actor,
                actor_kind=actor_kind,
                target=user,
                changes={"email": {"before": previous, "after": new_email}},
            )
        send_on_commit(
            user,
            emails.EMAIL_CHANGE_NOTICE,
            previous_email=previous,
            new_email=new_email,
            pending=pending,
        )
        others = (
            other_sessions_of(user, current_session_id=keep_session_id)
            if keep_session_id
            else login_sessions_active_for_user(user=user)
        )
        sessions_revoke_each(
            others.values_list("pk", flat=True),
            reason=LoginSession.RevokeReason.EMAIL_CHANGE,
            actor=actor,
        )
    return pending


# ----- password reset ---------------------------------------------------------------


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Send a reset link when an active account has this address; say nothing either way."""
    user = User.objects.filter(email__lower=email.strip().lower()).first()
    if user is not None and user.is_active and user.has_usable_password():
        send_on_commit(user, emails.PASSWORD_RESET)
    logger.info("password_reset_requested")


@transaction.atomic
def password_reset_confirm(*, token: str, new_password: str) -> User:
    user = email_tokens.password_reset_user(token)
    if user is None:
        raise ValidationFailed(
            "The reset token is invalid or expired.", code=AccountErrorCode.INVALID_TOKEN
        )
    password_check_policy(new_password, user=user)
    password_replace(
        user=user, actor=user, new_password=new_password, action=AuditAction.USER_PASSWORD_RESET
    )
    return user


# ----- deletion, recovery, purge ----------------------------------------------------


def account_delete(
    *, user: User, actor: User, password: str | None = None, reason: str = "", request=None
) -> User:
    """Deactivate an account at once; its owner can recover it for ACCOUNT_RECOVERY_DAYS.

    The owner proves the password (through `password_confirm`, so `request` is needed);
    staff give a reason instead, and an account staff deleted cannot recover itself,
    also when its owner had deleted it first. Deleting someone else needs
    `delete:users` over them, through whichever door the request came.

    An owner deletes their account only through the self-service routes, which pass
    the password; without one (the admin site, the user admin API) it is their own
    staff action and refused (403 SELF_LOCKOUT). Nobody deletes the last active
    superuser, its owner included (409 LAST_SUPERUSER).
    """
    if actor.pk != user.pk and not authz.can(actor, Permission.DELETE_USERS, user):
        raise Forbidden("You may not delete this user.", code=CommonErrorCode.PERMISSION_DENIED)
    if user.status != User.Status.DELETED:
        guard_against_lockout(actor=actor, user=user, self_service=password is not None)
    if actor.pk == user.pk:
        password_confirm(
            request=request,
            user=user,
            password=password or "",
            purpose=PasswordPurpose.ACCOUNT_DELETE,
        )
    if user.status == User.Status.DELETED:
        if actor.pk != user.pk:
            _deletion_by_staff_confirm(user=user, actor=actor, reason=reason)
        return user
    with transaction.atomic():
        previous = user.status
        user_status_set(
            user=user,
            status=User.Status.DELETED,
            actor=actor,
            reason=reason,
            self_service=actor.pk == user.pk,
        )
        audit_record(
            action=AuditAction.USER_DELETED,
            actor=actor,
            target=user,
            changes={"status": {"before": previous, "after": user.status}, "reason": reason},
        )
    return user


@transaction.atomic
def _deletion_by_staff_confirm(*, user: User, actor: User, reason: str) -> None:
    """Staff deleting an account its owner already deleted: the deletion becomes
    theirs, so the owner's recovery link no longer brings it back."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.status != User.Status.DELETED or locked.deleted_by_id != locked.pk:
        return
    user.deleted_by = actor
    user.save(update_fields=["deleted_by", "updated_at"])
    forget_changed_user(user, ["deleted_by"])
    audit_record(
        action=AuditAction.USER_DELETED,
        actor=actor,
        target=user,
        changes={"deleted_by": {"before": locked.pk, "after": actor.pk}, "reason": reason},
    )


def _recoverable(user: User) -> bool:
    """Only an account its owner deleted, inside the window and not yet purged."""
    window = timedelta(days=settings.ACCOUNT_RECOVERY_DAYS)
    return (
        user.status == User.Status.DELETED
        and user.deleted_by_id == user.pk
        and user.purged_at is None
        and user.deleted_at is not None
        and user.deleted_at + window > timezone.now()
    )


@transaction.atomic
def account_recovery_request(*, email: str) -> None:
    user = User.objects.filter(email__lower=email.strip().lower()).first()
    if user is not None and _recoverable(user):
        send_on_commit(user, emails.ACCOUNT_RECOVERY)


@transaction.atomic
def account_recover(*, token: str) -> User:
    """Give a self-deleted account back the status it had before (a pending account
    stays pending)."""
    user = email_tokens.account_recovery_user(token)
    if user is None or not _recoverable(user):
        raise ValidationFailed(
            "The recovery token is invalid or expired.", code=AccountErrorCode.INVALID_TOKEN
        )
    restored = user.status_before_deletion or User.Status.ACTIVE
    user_status_set(user=user, status=restored, actor=user, reason="recovered by its owner")
    audit_record(
        action=AuditAction.USER_RECOVERED,
        actor=user,
        actor_kind=ActorKind.USER,
        target=user,
        changes={"status": restored},
    )
    return user


def account_erase(*, user: User, actor: User, reason: str) -> int:
    """Erase an account at once and for good (a right-to-erasure request): the row and
    everything hanging off it (sessions, API keys, credit account, MFA devices) are
    deleted, its avatar file removed from the storage once the erasure commits, and its
    logged conversations redacted. Needs `delete:users` over the account
    and a reason; never one's own account nor the last active superuser. Its live
    sessions and keys are revoked first so that no cached token outlives the row; the
    audit row keeps the id and username, since the account itself is gone.
    """
    if not authz.can(actor, Permission.DELETE_USERS, user):
        raise Forbidden("You may not erase this user.", code=CommonErrorCode.PERMISSION_DENIED)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Give the reason for the erasure.", code=CommonErrorCode.VALIDATION_ERROR
        )
    guard_against_lockout(actor=actor, user=user)
    user_id, username = user.pk, user.username
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user_id)
        sessions_revoke_for_user(
            user=locked, reason=LoginSession.RevokeReason.STATUS_CHANGE, actor=actor
        )
        revoke_all_for_user(user=locked, actor=actor)
        message_log.redact_users([user_id])
        audit_record(
            action=AuditAction.USER_ERASED,
            actor=actor,
            target=locked,
            changes={"user_id": user_id, "username": username, "reason": reason},
        )
        user_event_record(actor=actor, type=EventType.USER_DELETED, user=locked, erased=True)
        TOTPDevice.objects.filter(user_id=user_id).delete()
        StaticDevice.objects.filter(user_id=user_id).delete()
        avatar_files_delete_on_commit([locked.avatar])
        locked.delete()
    forget_cached_users([user_id], must_succeed=False)  # committed: the row is gone
    logger.info("account_erased", user_id=user_id)
    return user_id


def deleted_accounts_purge(*, actor: User | None, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Erase the personal data of accounts deleted longer ago than the recovery window
    (the avatar files leave the storage once each batch commits).

    Runs in batches with set-based updates; safe to re-run (purged rows are skipped).
    A scheduled run is the system's (`actor=None`).
    """
    cutoff = timezone.now() - timedelta(days=settings.ACCOUNT_RECOVERY_DAYS)
    due = User.objects.filter(
        status=User.Status.DELETED, deleted_at__lte=cutoff, purged_at__isnull=True
    )
    purged = 0
    while True:
        ids = list(due.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return purged
        with transaction.atomic():
            now = timezone.now()
            avatar_files_delete_on_commit(
                User.objects.filter(pk__in=ids).exclude(avatar="").values_list("avatar", flat=True)
            )
            placeholder = Concat(Value("deleted-"), Cast("id", CharField()))
            User.objects.filter(pk__in=ids).update(
                username=placeholder,
                email=Concat(placeholder, Value("@invalid.example")),
                name="",
                first_name="",
                last_name="",
                about_me="",
                hobbies="",
                phone="",
                avatar="",
                preferences={},
                pending_email="",
                billing_email="",
                password=UNUSABLE_PASSWORD_PREFIX,
                purged_at=now,
            )
            LoginSession.objects.filter(user_id__in=ids).delete()
            MfaChallenge.objects.filter(user_id__in=ids).delete()
            TOTPDevice.objects.filter(user_id__in=ids).delete()
            StaticDevice.objects.filter(user_id__in=ids).delete()
            message_log.redact_users(ids)
            AuditLog.objects.bulk_create(
                AuditLog(
                    actor_id=getattr(actor, "pk", None),
                    actor_kind=ActorKind.SYSTEM if actor is None else ActorKind.ADMIN,
                    actor_label=actor.username if actor is not None else "",
                    action=AuditAction.USER_PURGED,
                    target_type="accounts.user",
                    target_id=str(pk),
                    occurred_at=now,
                )
                for pk in ids
            )
        forget_cached_users(ids, must_succeed=False)  # committed: purged rows cannot log in
        purged += len(ids)
        logger.info("accounts_purged", count=len(ids))


def login_sessions_purge(*, actor: User | None) -> int:
    """Delete sessions revoked or expired longer ago than LOGIN_SESSION_RETENTION_DAYS.

    Housekeeping without an audit row; a scheduled run is the system's (`actor=None`).
    """
    cutoff = timezone.now() - timedelta(days=settings.LOGIN_SESSION_RETENTION_DAYS)
    deleted, _ = LoginSession.objects.filter(
        Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff)
    ).delete()
    MfaChallenge.objects.filter(expires_at__lt=timezone.now()).delete()
    # Refresh tokens recorded by older releases (the session row is the record now).
    OutstandingToken.objects.filter(expires_at__lt=cutoff).delete()
    logger.info("login_sessions_purged", count=deleted)
    return deleted


@transaction.atomic
def email_verification_resend(*, email: str) -> None:
    """Send the verification email again to an unverified account; say nothing either way."""
    user = User.objects.filter(email__lower=email.strip().lower()).first()
    if user is not None and not user.is_verified:
        send_on_commit(user, emails.VERIFY)
