from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from messagelog import services


class Command(BaseCommand):
    help = (
        "Delete the conversations logged more than MESSAGE_RETENTION_DAYS ago, "
        "MESSAGE_PURGE_BATCH_SIZE rows per statement, reporting each batch. Celery beat "
        "does this hourly; MESSAGE_RETENTION_DAYS=0 keeps everything."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--time-budget",
            type=int,
            default=None,
            help="Seconds this run may take (default MESSAGE_PURGE_TIME_BUDGET_SECONDS).",
        )

    def handle(self, *args, **options) -> None:
        budget = options["time_budget"]
        if budget is not None and budget < 1:
            raise CommandError("--time-budget must be at least 1 second.")
        if not settings.MESSAGE_RETENTION_DAYS:
            self.stdout.write("MESSAGE_RETENTION_DAYS is 0: conversations are kept forever.")
            return

        def report(deleted: int, batches: int) -> None:
            self.stdout.write(f"Batch {batches}: {deleted} deleted so far.")

        purge = services.purge_expired(actor=None, time_budget_seconds=budget, on_batch=report)
        outcome = "Done" if purge.finished else "Time budget spent, the rest is for the next run"
        self.stdout.write(
            self.style.SUCCESS(
                f"{outcome}: deleted {purge.deleted} conversation(s) logged before "
                f"{purge.cutoff.isoformat()} in {purge.batches} batch(es)."
            )
        )
