"""The account emails: queued when the change commits, built when sent (tokens never
queue) from the texts in `templates/emails/`, and sent by a Celery task."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from accounts.auth import email_tokens
from accounts.models import User
from accounts.preferences import effective_preferences

VERIFY = "verify_email"
PASSWORD_RESET = "password_reset"  # noqa: S105 - an email kind, not a password
ACCOUNT_RECOVERY = "account_recovery"
EMAIL_CHANGE_NOTICE = "email_change_notice"
CREDITS_LOW = "credits_low"
ACCOUNT_LOCKOUT = "account_lockout"
# The notices a user may turn off: the preference (under `notifications`) each obeys.
NOTICE_PREFERENCES = {CREDITS_LOW: "credits_low", ACCOUNT_LOCKOUT: "account_lockout"}


def _body(kind: str, **context) -> str:
    """The text of `templates/emails/<kind>.txt`."""
    return render_to_string(f"emails/{kind}.txt", context).strip()


def _compose(kind: str, user: User, details: dict) -> tuple[str, str, str]:
    base_url = settings.PUBLIC_BASE_URL.rstrip("/")
    if kind == VERIFY:
        token = email_tokens.email_verification_token(user)
        expires_hours = settings.EMAIL_VERIFICATION_TIMEOUT_SECONDS // 3600
        return (
            email_tokens.verification_address(user),
            "Confirm your email address",
            _body(kind, base_url=base_url, token=token, expires_hours=expires_hours),
        )
    if kind == PASSWORD_RESET:
        token = email_tokens.password_reset_token(user)
        expires_minutes = settings.PASSWORD_RESET_TIMEOUT // 60
        return (
            user.email,
            "Reset your password",
            _body(kind, base_url=base_url, token=token, expires_minutes=expires_minutes),
        )
    if kind == ACCOUNT_RECOVERY:
        token = email_tokens.account_recovery_token(user)
        recovery_days = settings.ACCOUNT_RECOVERY_DAYS
        return (
            user.email,
            "Recover your account",
            _body(kind, base_url=base_url, token=token, recovery_days=recovery_days),
        )
    if kind == EMAIL_CHANGE_NOTICE:
        # To the address being replaced: its owner hears of the change either way.
        what = "was asked to change" if details["pending"] else "changed"
        return (
            details["previous_email"],
            "The email address of your account is changing",
            _body(kind, username=user.username, what=what, new_email=details["new_email"]),
        )
    if kind == CREDITS_LOW:
        return (
            user.email,
            "Your conversations are running low",
            _body(
                kind,
                username=user.username,
                remaining=details["conversation_limit"],
                base_url=base_url,
            ),
        )
    if kind == ACCOUNT_LOCKOUT:
        return (
            user.email,
            "Your account was locked after failed logins",
            _body(
                kind,
                username=user.username,
                minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
                base_url=base_url,
            ),
        )
    raise ValueError(f"unknown email kind {kind!r}")


def notice_wanted(user: User, kind: str) -> bool:
    """Whether the user's preferences let this notice go (`notifications.email` and
    the notice's own switch)."""
    notifications = effective_preferences(user).get("notifications", {})
    wanted = notifications.get(NOTICE_PREFERENCES[kind], True)
    return bool(notifications.get("email", True) and wanted)


def send_account_email(*, user: User, kind: str, details: dict | None = None) -> None:
    recipient, subject, body = _compose(kind, user, details or {})
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])


# Registered under accounts.tasks, the name workers and queued messages know it by.
@shared_task(
    name="accounts.tasks.send_account_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_account_email_task(user_id: int, kind: str, details: dict | None = None) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    # Preferences are read when sending, so a notice queued before the user turned it
    # off is not sent.
    if kind in NOTICE_PREFERENCES and not (user.is_active and notice_wanted(user, kind)):
        return
    send_account_email(user=user, kind=kind, details=details)


def send_on_commit(user: User, kind: str, **details) -> None:
    """Queue an account email once the current transaction commits (never on rollback).

    `details` are what the email says that the account row may no longer hold when
    it is sent (an old address); never a token.
    """
    user_id = user.pk
    transaction.on_commit(lambda: send_account_email_task.delay(user_id, kind, details or None))
