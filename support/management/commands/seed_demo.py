from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from support.demo_data.loader import DEMO_PASSWORD, DemoRefused, Options, fill
from support.demo_data.rows import DEMO_ADMIN_USERNAME, DEMO_USERNAME


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def _not_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Fill a PostgreSQL database with realistic demo data (tenants, roles, users, "
        "sessions, API keys, credits, ledger, audit trail, conversations) for benchmarks "
        "and demos, with COPY, in one transaction. Every account logs in with the "
        f"password {DEMO_PASSWORD!r}. Never run it against a production database."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--users", type=_positive, default=1000)
        parser.add_argument("--messages", type=_not_negative, default=10_000)
        parser.add_argument(
            "--tenants", type=_not_negative, default=None, help="default: users / 1000, at least 1"
        )
        parser.add_argument(
            "--batch-size", type=_positive, default=50_000, help="rows per COPY statement"
        )
        parser.add_argument("--seed", type=int, default=1, help="the same seed, the same data")
        parser.add_argument(
            "--as-of",
            type=_moment,
            default=None,
            help="ISO date or time the data ends at (default: now); fix it to reproduce a run",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--reset",
            action="store_true",
            help="empty the tables this command fills first (refused if any account has a "
            "real email address)",
        )
        mode.add_argument(
            "--append", action="store_true", help="add demo data beside existing accounts"
        )
        parser.add_argument(
            "--yes-this-is-a-demo-database",
            action="store_true",
            dest="confirmed",
            help="required when DEBUG is off",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args, **options) -> None:
        settings = Options(
            users=options["users"],
            messages=options["messages"],
            tenants=(
                options["tenants"]
                if options["tenants"] is not None
                else max(1, options["users"] // 1000)
            ),
            seed=options["seed"],
            batch_size=options["batch_size"],
            as_of=options["as_of"] or datetime.now(UTC).replace(microsecond=0),
            reset=options["reset"],
            append=options["append"],
            confirmed=options["confirmed"],
        )
        bars: dict[str, tqdm] = {}

        def progress_for(table: str, total: int):
            bar = tqdm(
                total=total,
                desc=f"{table:>16}",
                unit=" rows",
                unit_scale=True,
                file=self.stderr,
                disable=options["no_progress"],
                leave=True,
            )
            bars[table] = bar
            return bar.update

        def finish(table: str) -> None:
            bar = bars.pop(table)
            bar.total = bar.n
            bar.close()

        try:
            outcome = fill(settings, progress_for, finish)
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        finally:
            for bar in bars.values():
                bar.close()
        self._report(outcome, settings)

    def _report(self, outcome, settings: Options) -> None:
        write = self.stdout.write
        total_seconds = sum(result.seconds for result in outcome.tables)
        write(f"Demo data as of {outcome.plan.as_of.isoformat()}, seed {settings.seed}:")
        for result in outcome.tables:
            rate = result.rows / result.seconds if result.seconds else 0
            write(
                f"  {result.table:<16} {result.rows:>12,} rows {result.seconds:>9.1f} s "
                f"{rate:>11,.0f} rows/s"
            )
        write(f"  {'ANALYZE':<16} {'':>17} {outcome.analyze_seconds:>9.1f} s")
        write(f"  {'total':<16} {'':>17} {total_seconds + outcome.analyze_seconds:>9.1f} s")
        write(f"Every demo account's password: {DEMO_PASSWORD}")
        if outcome.demo_key:
            write(
                f"Demo user: {DEMO_USERNAME} (API key {outcome.demo_key}); platform admin: "
                f"{DEMO_ADMIN_USERNAME}."
            )
        self.stdout.write(self.style.SUCCESS("Done."))
