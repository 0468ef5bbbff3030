"""Celery tasks: thin, idempotent wrappers that take ids and call services."""

from celery import shared_task

from accounts import emails, lifecycle
from accounts.models import User


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_account_email(user_id: int, kind: str, details: dict | None = None) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is not None:
        emails.send_account_email(user=user, kind=kind, details=details)


@shared_task
def purge_login_sessions() -> int:
    return lifecycle.login_sessions_purge()


@shared_task
def purge_deleted_accounts() -> int:
    return lifecycle.deleted_accounts_purge()
