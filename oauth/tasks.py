"""Celery tasks of the OAuth provider: thin wrappers over its services."""

from celery import shared_task

from oauth import services


@shared_task
def clear_expired_oauth_tokens() -> None:
    services.expired_tokens_clear(actor=None)
