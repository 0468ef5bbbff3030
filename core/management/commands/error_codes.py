from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.error_catalog import DOCS_START, docs_with_table, markdown_table

DOCS_PAGE = Path(settings.BASE_DIR) / "docs" / "api.md"


class Command(BaseCommand):
    help = "Print the table of every error code, or write it into docs/api.md."

    def add_arguments(self, parser):
        parser.add_argument(
            "--write", action="store_true", help="Rewrite the table in docs/api.md."
        )

    def handle(self, *args, write: bool = False, **options):
        if not write:
            self.stdout.write(markdown_table())
            return
        text = DOCS_PAGE.read_text()
        if DOCS_START not in text:
            raise CommandError(f"docs/api.md has no marker line {DOCS_START!r}.")
        DOCS_PAGE.write_text(docs_with_table(text))
        self.stdout.write(self.style.SUCCESS("docs/api.md: error-code table rewritten."))
