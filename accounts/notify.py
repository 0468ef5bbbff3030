from django.db import transaction

from accounts.models import User


def send_on_commit(user: User, kind: str, **details) -> None:
    """Queue an account email once the current transaction commits (never on rollback).

    `details` are what the email says that the account row may no longer hold when
    it is sent (an old address); never a token.
    """
    from accounts.tasks import send_account_email

    user_id = user.pk
    transaction.on_commit(lambda: send_account_email.delay(user_id, kind, details or None))
