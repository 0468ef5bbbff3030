from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.services.imports import import_users


class Command(BaseCommand):
    help = (
        "Create users from a CSV with the columns username, email, password and optionally "
        "name, role, tenant (slug) and status. Every row is validated first; if any row is "
        "bad, nothing is written and the bad rows are listed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options) -> None:
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with path.open(newline="", encoding="utf-8") as stream:
            report = import_users(
                stream,
                actor=None,
                progress=lambda rows: tqdm(rows, desc="validating", file=self.stderr),
            )
        if report.errors:
            for line, message in report.errors:
                self.stderr.write(f"line {line}: {message}")
            raise CommandError(f"{len(report.errors)} problem(s); nothing was imported.")
        self.stdout.write(self.style.SUCCESS(f"Imported {report.created} user(s)."))
