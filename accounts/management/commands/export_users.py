import csv
import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from tqdm import tqdm

from accounts.exports import export_rows
from accounts.models import User


class Command(BaseCommand):
    help = "Write every user (no secrets) as CSV to a file, or to standard output."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, nargs="?")
        parser.add_argument("--tenant", help="only the users of this tenant (slug)")

    def handle(self, *args, path: Path | None, tenant: str | None, **options) -> None:
        users = User.objects.select_related("role", "tenant").order_by("pk")
        if tenant:
            users = users.filter(tenant__slug=tenant)
        stream = path.open("w", newline="", encoding="utf-8") if path else sys.stdout
        try:
            writer = csv.writer(stream)
            rows = export_rows(users.iterator(chunk_size=2000))
            total = users.count() + 1
            for row in tqdm(
                rows, total=total, desc="exporting", file=self.stderr, disable=not path
            ):
                writer.writerow(row)
        finally:
            if path:
                stream.close()
        if path:
            self.stdout.write(self.style.SUCCESS(f"Exported {total - 1} user(s) to {path}."))
