from django.conf import settings
from django.core.management.base import BaseCommand

from events import services


class Command(BaseCommand):
    help = (
        "Publish the events the outbox still holds to the broker (EVENTS_BROKER_URL) and "
        "the webhooks; with --prune, also delete published events older than "
        "EVENTS_RETENTION_DAYS."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--prune", action="store_true", help="Also prune published events.")

    def handle(self, *args, **options) -> None:
        published = services.events_relay(actor=None)
        self.stdout.write(f"Published {published} event(s).")
        if options["prune"]:
            pruned = services.events_prune(
                actor=None, older_than_days=settings.EVENTS_RETENTION_DAYS
            )
            self.stdout.write(f"Pruned {pruned} published event(s).")
