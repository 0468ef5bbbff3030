"""The account emails: queued when the change commits, built when sent (tokens never
queue), and sent by a Celery task."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from accounts.auth import email_tokens
from accounts.models import User

VERIFY = "verify_email"
PASSWORD_RESET = "password_reset"  # noqa: S105 - an email kind, not a password
ACCOUNT_RECOVERY = "account_recovery"
EMAIL_CHANGE_NOTICE = "email_change_notice"


def _compose(kind: str, user: User, details: dict) -> tuple[str, str, str]:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    if kind == VERIFY:
        token = email_tokens.email_verification_token(user)
        return (
            email_tokens.verification_address(user),
            "Confirm your email address",
            "Confirm this address by sending the token below to "
            f'POST {base}/api/v1/auth/verify-email as {{"token": "..."}}.\n\n{token}\n\n'
            f"It expires in {settings.EMAIL_VERIFICATION_TIMEOUT_SECONDS // 3600} hours.",
        )
    if kind == PASSWORD_RESET:
        token = email_tokens.password_reset_token(user)
        return (
            user.email,
            "Reset your password",
            "Someone asked to reset the password of this account. If it was you, send the "
            f"token below with your new password to POST {base}/api/v1/auth/reset-password/confirm."
            f"\n\n{token}\n\nIt works once and expires in "
            f"{settings.PASSWORD_RESET_TIMEOUT // 60} minutes. If it was not you, ignore this.",
        )
    if kind == ACCOUNT_RECOVERY:
        token = email_tokens.account_recovery_token(user)
        return (
            user.email,
            "Recover your account",
            f"Your account was deleted. To restore it, send the token below to POST {base}"
            f"/api/v1/auth/recover-account/confirm within {settings.ACCOUNT_RECOVERY_DAYS} days "
            f"of the deletion.\n\n{token}",
        )
    if kind == EMAIL_CHANGE_NOTICE:
        # To the address being replaced: its owner hears of the change either way.
        what = "was asked to change" if details["pending"] else "changed"
        return (
            details["previous_email"],
            "The email address of your account is changing",
            f"The email address of the account {user.username} {what} from this address to "
            f"{details['new_email']}. Every other login session of the account was ended.\n\n"
            "If this was not you, reset your password at once and contact support.",
        )
    raise ValueError(f"unknown email kind {kind!r}")


def send_account_email(*, user: User, kind: str, details: dict | None = None) -> None:
    recipient, subject, body = _compose(kind, user, details or {})
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])


# The name queued messages carry: the task lived in accounts.tasks.
@shared_task(
    name="accounts.tasks.send_account_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_account_email_task(user_id: int, kind: str, details: dict | None = None) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is not None:
        send_account_email(user=user, kind=kind, details=details)


def send_on_commit(user: User, kind: str, **details) -> None:
    """Queue an account email once the current transaction commits (never on rollback).

    `details` are what the email says that the account row may no longer hold when
    it is sent (an old address); never a token.
    """
    user_id = user.pk
    transaction.on_commit(lambda: send_account_email_task.delay(user_id, kind, details or None))
