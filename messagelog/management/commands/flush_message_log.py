from django.core.management.base import BaseCommand

from messagelog import selectors, services


class Command(BaseCommand):
    help = (
        "Write every queued conversation to the database now. Celery beat does this every "
        "MESSAGE_FLUSH_INTERVAL_SECONDS; without Redis entries are written directly and "
        "there is nothing to flush."
    )

    def handle(self, *args, **options) -> None:
        depth = selectors.queue_depth()
        if depth is None:
            self.stdout.write("No queue on this set-up: conversations are written directly.")
            return
        written = services.flush(actor=None)
        depth = selectors.queue_depth()
        self.stdout.write(
            self.style.SUCCESS(f"Flushed {written} conversation(s).")
            + f" Still queued: {depth['queued']}, refused (kept aside): {depth['dead']}."
        )
