from django.db import transaction

from accounts.models import User


def send_on_commit(user: User, kind: str) -> None:
    """Queue an account email once the current transaction commits (never on rollback)."""
    from accounts.tasks import send_account_email

    user_id = user.pk
    transaction.on_commit(lambda: send_account_email.delay(user_id, kind))
