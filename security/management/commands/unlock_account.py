from django.core.management.base import BaseCommand, CommandError

from security.lockout import account_of_key, lockout_key, user_locked_until
from security.services.lockout import account_unlock


class Command(BaseCommand):
    help = (
        "Unlock an account locked after failed logins: clear its failures (audited as "
        "the system). The account is named by username or email, in any letter case."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("user", help="the account's username or email")

    def handle(self, *args, user: str, **options) -> None:
        account = account_of_key(lockout_key(user))
        if account is None:
            raise CommandError(f"No account is called {user!r}.")
        was_locked = user_locked_until(account) is not None
        cleared = account_unlock(identifier=user, actor=None)
        if was_locked:
            message = f"Unlocked {account.username}: it may log in again."
        else:
            message = f"{account.username} was not locked; {cleared} failure record(s) cleared."
        self.stdout.write(self.style.SUCCESS(message))
