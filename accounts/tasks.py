"""Celery tasks: thin, idempotent wrappers that take ids and call services.

The account emails' task lives with the emails (`accounts.emails`), which the
services queue.
"""

from celery import shared_task

from accounts.services import lifecycle


@shared_task
def purge_login_sessions() -> int:
    return lifecycle.login_sessions_purge(actor=None)


@shared_task
def purge_deleted_accounts() -> int:
    return lifecycle.deleted_accounts_purge(actor=None)
