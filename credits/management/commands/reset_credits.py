from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core.errors import ValidationFailed
from credits.services import daily_reset


class Command(BaseCommand):
    help = (
        "Reset every credit account to its daily amounts (once per day: accounts already "
        "reset that day are skipped, so running it again is harmless)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--day", type=date.fromisoformat, help="the day to reset for (ISO)")

    def handle(self, *args, day: date | None, **options) -> None:
        try:
            count = daily_reset(actor=None, day=day)
        except ValidationFailed as refused:
            raise CommandError(refused.message) from refused
        self.stdout.write(self.style.SUCCESS(f"Reset {count} credit account(s)."))
