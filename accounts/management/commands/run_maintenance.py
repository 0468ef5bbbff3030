from django.core.management.base import BaseCommand

from accounts.services import lifecycle


class Command(BaseCommand):
    help = (
        "Run the periodic account jobs once: purge old login sessions and erase accounts "
        "deleted longer ago than ACCOUNT_RECOVERY_DAYS. Celery beat runs them in production; "
        "cron or this command does it for the embedded set-up."
    )

    def handle(self, *args, **options) -> None:
        sessions = lifecycle.login_sessions_purge(actor=None)
        accounts = lifecycle.deleted_accounts_purge(actor=None)
        self.stdout.write(f"Purged {sessions} login session(s) and {accounts} deleted account(s).")
