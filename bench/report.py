"""Turn one `make bench` run into docs/BENCHMARKS.md: the scenarios, each against its
baseline of the same run, where their time goes, and whether each target is met.

Everything shown is computed from the figures passed in; nothing here is a result,
except the "next step" notes, which are the reading of the profiles written down.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from bench.cpu import GROUPS as CPU_PARTS
from bench.profile import Profile
from bench.wrk import WrkResult


class HttpScenario(NamedTuple):
    """A measured page: its label, its wrk connections (None: --concurrency)."""

    label: str
    connections: int | None


HTTP_SCENARIOS = {
    "bare": HttpScenario("GET /bench/bare (bare DRF view), one client", 1),
    "admin_changelist": HttpScenario("admin user changelist, page 1", 1),
    "admin_search": HttpScenario("admin user search (a common surname; a term matching none)", 1),
    "users_keyset": HttpScenario(
        "GET /api/v1/users/?status=active&ordering=-created_at, keyset pages 1 and 2", 1
    ),
    "admin_statistics": HttpScenario("GET /v1/admin-panel/statistics", 1),
    "admin_dashboard": HttpScenario("admin dashboard (/admin/)", 1),
    "messages_admin_panel": HttpScenario(
        "newest conversations of one user: /v1/admin-panel/message-logs/{id}", 1
    ),
    "messages_support": HttpScenario(
        "newest conversations of one user: /v1/support/users/{id}/messages", 1
    ),
    "messages_me": HttpScenario("newest conversations of one user: /api/v1/users/me/messages", 1),
    "metered": HttpScenario("POST /v1/prompt/completions (API key), one client", 1),
    "bare_concurrent": HttpScenario("GET /bench/bare (bare DRF view), concurrent", None),
    # Two clients per hashing process: each waits on a hash of up to a second here,
    # and more clients only lengthen every login without adding any.
    "login": HttpScenario("POST /api/v1/auth/login, concurrent", 4),
    "refresh": HttpScenario("POST /api/v1/auth/refresh (rotation), concurrent", None),
}

# p50 targets (ms) of the pages measured with one client, against the bare view's p50.
PAGE_TARGETS_MS = {
    "admin_changelist": 150,
    "admin_search": 300,
    "users_keyset": 30,
    "admin_statistics": 200,
    "admin_dashboard": 300,
    "messages_admin_panel": 20,
    "messages_support": 20,
    "messages_me": 20,
}
# Share of CPU busy with other work above which the summary warns.
BUSY_PERCENT = 50
RESET_MAX_RATIO = 1.5
REFRESH_PER_CORE = 500
LOGIN_HASH_SHARE = 0.90
LOGIN_PER_CORE = 30
FLUSH_OVER_INSERTS = 20
FLUSH_OF_COPY = 0.30
METERED_ADDED_P50_MS = 1.5
# No growth: after the first fifth of the soak (caches filling), the workers' RSS may
# not rise by more than this share (allocator noise), nor keep a positive slope above
# SOAK_SLOPE_MIB_PER_MIN.
SOAK_GROWTH_SHARE = 0.05
SOAK_SLOPE_MIB_PER_MIN = 1.0

# The reading of each scenario's profile: the next step to make it faster. Written
# from the profiles of the run that last changed them; the profile table beside each
# shows whether it still holds.
NEXT_STEPS = {
    "admin_changelist": "met. What remains is Django's admin rendering the rows "
    "(templates, `format_html`); the count stops at 10,000 rows and the sidebar "
    "lists no tenant or role (typed filters).",
    "admin_search": "met: the trigram lookups (`user_ids_if_rare`) and rendering "
    "the page of results.",
    "users_keyset": "met: the keyset page query and serialising each user.",
    "admin_statistics": "met from the statistics cache; its p99 is the cold "
    "computation (`statistics_now`) after each expiry: recompute it in beat "
    "before it expires.",
    "admin_dashboard": "met: the figures' queries and drawing the charts with "
    "pygal (`support/charts.py`): keep the drawn charts in the cache beside the "
    "figures.",
    "messages_admin_panel": "met: the audit row of each read (`audit_record`, a "
    "committed INSERT) and the page query.",
    "messages_support": "met: the audit row of each read (`audit_record`) and the page query.",
    "messages_me": "met: the keyset page query and writing the JSON of a page of "
    "whole conversations.",
    "metered": "the committed credit `UPDATE` (`_take`) waits on PostgreSQL's WAL "
    "flush: CREDITS_ASYNC_COMMIT (an opt-in) or group commit (`commit_delay`) "
    "would cut it; the log entry's Redis push and the inline flush of every 50th "
    "entry (no Celery broker here) are the rest.",
    "login": "the argon2id hash is about half of a login's CPU. The login's writes "
    "(`last_login`, the session, its audit row and outbox event) are one "
    "transaction, and an account without failures writes nothing for the lockout. "
    "The rest is the account lookup, the lockout's count and the MFA check, DRF and "
    "the middleware and, with no Celery broker as here, the event relayed inline "
    "(a transaction that reads, marks and fans out the outbox row). With a broker "
    "the relay leaves the request; 90% of hash-bound would leave about 1.5 ms for "
    "everything but the hash.",
    "refresh": "the one conditional `UPDATE ... RETURNING` (`_rotate_if_routine`) "
    "waiting on PostgreSQL: it changes indexed columns (`refresh_jti`, "
    "`expires_at`), so every index of the sessions table is written, then it "
    "commits; then DRF's request and serializer stack and signing two tokens. A "
    "refresh costs about 2.7 ms of CPU against the bare view's 0.7 ms: 500/s per "
    "core needs the route off DRF's stack and fewer index writes per rotation.",
    "reset": "all of it is PostgreSQL executing the one set-based `UPDATE`: the "
    "service adds little beyond the bare statement.",
    "flush": "the COPY itself (`_copy`). One INSERT per message is cheap on this "
    "disk and the raw COPY of the same rows is itself only a few times faster "
    "(both write every index of a ten-million-row table), so 20x one INSERT "
    "each would take a flush faster than the raw COPY it is measured against.",
}


@dataclass(frozen=True)
class HashTiming:
    """Seconds per bare `check_password` with the configured hasher."""

    hasher: str
    seconds: Sequence[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass(frozen=True)
class BatchTiming:
    """Wall seconds per repeat of the set-based jobs and their bare SQL (bench.batch)."""

    accounts: int
    service: Sequence[float]
    bare: Sequence[float]
    flush_rows: int
    flush_batch_size: int
    flush_flush: Sequence[float]
    flush_insert_each: Sequence[float]
    flush_copy: Sequence[float]


@dataclass(frozen=True)
class MemorySoak:
    """RSS (MiB) of every worker sampled at `times` (seconds) under mixed load."""

    seconds: float
    requests: int
    errors: int
    times: Sequence[float]
    rss_mib: Sequence[Sequence[float]]
    workers: int

    @property
    def totals(self) -> list[float]:
        return [sum(sizes) for sizes in self.rss_mib]

    @property
    def warm_index(self) -> int:
        """The first sample after a fifth of the soak: caches are filled by then."""
        cutoff = self.seconds / 5
        return next((i for i, t in enumerate(self.times) if t >= cutoff), 0)

    def slope_mib_per_min(self) -> float:
        """Least-squares slope of the total RSS after warm-up, MiB per minute."""
        xs, ys = self.times[self.warm_index :], self.totals[self.warm_index :]
        if len(xs) < 2:
            return 0.0
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        if not spread:
            return 0.0
        return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread * 60

    @property
    def growth(self) -> float:
        """Total RSS at the end over that after warm-up, minus one."""
        totals = self.totals
        if not totals or not totals[self.warm_index]:
            return 0.0
        return totals[-1] / totals[self.warm_index] - 1


@dataclass(frozen=True)
class BenchSettings:
    quick: bool
    users: int
    messages: int
    busiest_messages: int
    workers: int
    threads: int
    cores: int
    concurrency: int
    warmup: float
    duration: float
    repeats: int
    profile_seconds: float
    database: str
    service_env: dict[str, str]

    @property
    def hashing_processes(self) -> int:
        return min(self.workers, self.cores)


@dataclass(frozen=True)
class Target:
    """One target of the issue: what was measured, its baseline, and the verdict."""

    key: str
    label: str
    measured: str
    baseline: str
    aim: str
    met: bool

    @property
    def verdict(self) -> str:
        return "met" if self.met else "NOT met"


def share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True)
class Report:
    command: str
    started: datetime
    elapsed_seconds: float
    machine: dict[str, str]
    versions: dict[str, str]
    settings: BenchSettings
    hashing: HashTiming
    batch: BatchTiming
    results: dict[str, list[WrkResult]]
    profiles: dict[str, Profile] = field(default_factory=dict)
    soak: MemorySoak | None = None

    def p50(self, key: str) -> float:
        """Median over the rounds of each run's p50, ms."""
        return statistics.median(run.p50_ms for run in self.results[key])

    def throughput(self, key: str) -> float:
        return statistics.median(run.throughput for run in self.results[key])

    @property
    def hash_bound(self) -> float:
        """Logins per second if every usable core did nothing but check passwords."""
        return self.settings.hashing_processes / self.hashing.median

    def targets(self) -> list[Target]:
        bare = self.p50("bare")
        cores = self.settings.cores
        rows = [
            Target(
                key,
                HTTP_SCENARIOS[key].label,
                f"p50 {self.p50(key):.1f} ms",
                f"bare view p50 {bare:.2f} ms",
                f"p50 <= {aim} ms",
                self.p50(key) <= aim,
            )
            for key, aim in PAGE_TARGETS_MS.items()
        ]
        metered_added = self.p50("metered") - bare
        batch = self.batch
        reset = share(statistics.median(batch.service), statistics.median(batch.bare))
        flush = statistics.median(batch.flush_flush)
        inserts = statistics.median(batch.flush_insert_each)
        copy = statistics.median(batch.flush_copy)
        login, refresh = self.throughput("login"), self.throughput("refresh")
        bare_concurrent = f"bare view {self.throughput('bare_concurrent'):.0f} req/s"
        rows += [
            Target(
                "reset",
                f"daily credit reset of {batch.accounts:,} accounts vs one bare UPDATE",
                f"{reset:.2f}x ({statistics.median(batch.service):.2f} s)",
                f"bare UPDATE {statistics.median(batch.bare):.2f} s",
                f"<= {RESET_MAX_RATIO}x",
                reset <= RESET_MAX_RATIO,
            ),
            Target(
                "refresh",
                "token refresh (rotation and reuse bookkeeping), per core",
                f"{refresh / cores:.0f}/s per core ({refresh:.0f}/s on {cores} cores)",
                bare_concurrent,
                f">= {REFRESH_PER_CORE}/s per core",
                refresh / cores >= REFRESH_PER_CORE,
            ),
            Target(
                "login",
                f"login ({self.hashing.hasher}) / hash-bound limit",
                f"{share(login, self.hash_bound):.0%} ({login:.1f} / {self.hash_bound:.1f} per s)",
                f"bare hash {self.hashing.median * 1000:.0f} ms",
                f">= {LOGIN_HASH_SHARE:.0%}",
                share(login, self.hash_bound) >= LOGIN_HASH_SHARE,
            ),
            Target(
                "login_per_core",
                "login, per core",
                f"{login / cores:.1f}/s per core",
                f"hash-bound {self.hash_bound / cores:.1f}/s per core",
                f">= {LOGIN_PER_CORE}/s per core",
                login / cores >= LOGIN_PER_CORE,
            ),
            Target(
                "flush",
                f"message-log flush of {batch.flush_rows:,} rows vs one INSERT per message",
                f"{share(inserts, flush):.1f}x faster ({flush * 1000:.0f} ms)",
                f"INSERT each {inserts * 1000:.0f} ms",
                f">= {FLUSH_OVER_INSERTS}x",
                share(inserts, flush) >= FLUSH_OVER_INSERTS,
            ),
            Target(
                "flush_copy",
                "message-log flush vs raw COPY of the same rows",
                f"{share(copy, flush):.0%} of COPY's rate",
                f"COPY {copy * 1000:.0f} ms",
                f">= {FLUSH_OF_COPY:.0%}",
                share(copy, flush) >= FLUSH_OF_COPY,
            ),
            Target(
                "metered",
                "metered call, lossless default: added p50 over a bare view, one client",
                f"+{metered_added:.2f} ms ({self.p50('metered'):.2f} ms)",
                f"bare view p50 {bare:.2f} ms",
                f"<= {METERED_ADDED_P50_MS} ms",
                metered_added <= METERED_ADDED_P50_MS,
            ),
        ]
        if self.soak is not None and self.soak.totals:
            soak, totals = self.soak, self.soak.totals
            rows.append(
                Target(
                    "memory",
                    f"web worker memory over a {soak.seconds:g} s soak ({soak.workers} workers)",
                    f"{totals[soak.warm_index]:.0f} -> {totals[-1]:.0f} MiB "
                    f"({soak.growth:+.1%}, {soak.slope_mib_per_min():+.2f} MiB/min)",
                    f"{totals[0]:.0f} MiB at the start",
                    "no growth",
                    soak.growth <= SOAK_GROWTH_SHARE
                    and soak.slope_mib_per_min() <= SOAK_SLOPE_MIB_PER_MIN,
                )
            )
        return rows


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _busy_note(report: Report) -> str:
    """A warning when other work kept the CPUs busy around the run."""
    busy = report.machine.get("CPU busy just before the run (other processes)", "")
    if not busy.rstrip("%").isdigit() or int(busy.rstrip("%")) < BUSY_PERCENT:
        return ""
    return (
        f" Other work kept the machine's CPUs {busy} busy just before this run (load "
        "averages in the machine table): every absolute figure is pessimistic, and the "
        "ratios to the same-run baselines are what to read."
    )


def _summary_section(report: Report) -> list[str]:
    s = report.settings
    rows = [
        [t.label, t.measured, t.baseline, t.aim, "yes" if t.met else "**no**"]
        for t in report.targets()
    ]
    return [
        "## Summary",
        "",
        f"Measured on a demo database of **{s.users:,} users and {s.messages:,} "
        f"conversations** (`manage.py seed_demo`; the busiest account, whose conversations "
        f"are read, has {s.busiest_messages:,})"
        + (", in `--quick` mode: small and short, for checking the harness." if s.quick else ".")
        + " Each figure's baseline was measured in the same run."
        + _busy_note(report),
        "",
        *_table(["Scenario", "Measured", "Baseline (same run)", "Target", "Met"], rows),
        "",
    ]


def _frames(profile: Profile, which: str, count: int = 3) -> str:
    top = profile.top(which, count)
    return "; ".join(f"`{frame}` {part:.0%}" for frame, part in top) or "-"


def _profile_section(report: Report) -> list[str]:
    if not report.profiles:
        return [
            "## Where the time goes",
            "",
            "Not recorded in this run (py-spy missing or `--profile-seconds 0`).",
            "",
        ]
    rows = []
    for key, profile in report.profiles.items():
        label = HTTP_SCENARIOS[key].label if key in HTTP_SCENARIOS else _JOB_LABELS[key]
        rows.append(
            [
                label,
                str(profile.samples),
                _frames(profile, "service"),
                _frames(profile, "packages"),
                _frames(profile, "leaves", 2),
                NEXT_STEPS.get(key, "-"),
            ]
        )
    return [
        "## Where the time goes",
        "",
        f"py-spy sampled every gunicorn worker for {report.settings.profile_seconds:g} s while "
        "each scenario ran once more (not measured), idle stacks included so that waiting "
        "on PostgreSQL or Redis counts; the jobs were sampled in their own process. Only "
        'samples inside a request (or the job) count. "Service code" charges each sample '
        "to its innermost frame in the service's own packages (that function and what it "
        "calls; a middleware does not count, so a sample with only middleware above it is "
        'Django\'s own work such as rendering a template response); "package" and '
        '"innermost" to the frame it was in '
        "(`psycopg` is waiting on PostgreSQL, `redis` on Redis, `django/template` is "
        "rendering). Shares of the counted samples, largest first.",
        "",
        *_table(["Scenario", "Samples", "Service code", "Package", "Innermost", "Next step"], rows),
        "",
    ]


_JOB_LABELS = {"reset": "daily credit reset", "flush": "message-log flush"}


def _results_section(report: Report) -> list[str]:
    rows = []
    for key, runs in report.results.items():
        cpu = [run.cpu_per_request_ms() for run in runs]
        cpu = [figures for figures in cpu if figures]
        per_part = [
            f"{statistics.median(f[part] for f in cpu):.2f}" if cpu else "-"
            for part in (*CPU_PARTS, "total")
        ]
        rows.append(
            [
                HTTP_SCENARIOS[key].label,
                str(HTTP_SCENARIOS[key].connections or report.settings.concurrency),
                f"{report.throughput(key):.1f}",
                f"{report.p50(key):.2f}",
                f"{statistics.median(run.p99_ms for run in runs):.2f}",
                str(sum(run.successes for run in runs)),
                *per_part,
            ]
        )
    header = ["Scenario", "Clients", "req/s", "p50 ms", "p99 ms", "Answers"]
    header += [f"CPU ms: {part}" for part in (*CPU_PARTS, "total")]
    return ["## HTTP results", "", *_table(header, rows), ""]


def _batch_section(report: Report) -> list[str]:
    b = report.batch

    def runs(values: Sequence[float]) -> str:
        return ", ".join(f"{v:.3f}" for v in values)

    rows = [
        ["daily reset (`credits.services.daily_reset`)", f"{b.accounts:,}", runs(b.service)],
        ["one bare `UPDATE` of the same rows and columns", f"{b.accounts:,}", runs(b.bare)],
        [
            f"message-log flush (batches of {b.flush_batch_size})",
            f"{b.flush_rows:,}",
            runs(b.flush_flush),
        ],
        [
            "one `INSERT` per message, each committed",
            f"{b.flush_rows:,}",
            runs(b.flush_insert_each),
        ],
        ["one raw `COPY`", f"{b.flush_rows:,}", runs(b.flush_copy)],
    ]
    return [
        "## Set-based jobs",
        "",
        "Timed by `bench.batch` in one process on the demo database before the server",
        "starts; wall seconds of each repeat (the summary uses their medians).",
        "",
        *_table(["Work", "Rows", "Seconds"], rows),
        "",
    ]


def _hash_section(report: Report) -> list[str]:
    h, s = report.hashing, report.settings
    return [
        "## Hash-bound limit",
        "",
        f"- One bare `check_password` with the default hasher, {h.hasher}, "
        f"{len(h.seconds)} calls in one process with the service's settings: median "
        f"{h.median * 1000:.1f} ms (min {min(h.seconds) * 1000:.1f}, max "
        f"{max(h.seconds) * 1000:.1f}).",
        f"- Processes hashing at once: min({s.workers} workers, {s.cores} cores) = "
        f"{s.hashing_processes}; limit {s.hashing_processes} / {h.median:.4f} s = "
        f"**{report.hash_bound:.2f} logins/s**.",
        "",
    ]


def _soak_section(report: Report) -> list[str]:
    soak = report.soak
    if soak is None or not soak.totals:
        return []
    totals = soak.totals
    per_worker = [
        f"worker {i + 1}: {soak.rss_mib[0][i]:.0f} -> {soak.rss_mib[-1][i]:.0f} MiB "
        f"(max {max(sizes[i] for sizes in soak.rss_mib):.0f})"
        for i in range(soak.workers)
    ]
    return [
        "## Memory soak",
        "",
        f"Mixed requests (metered call, user list, own conversations, admin changelist, "
        f"statistics, bare view) from {report.settings.concurrency} clients for "
        f"{soak.seconds:g} s: {soak.requests:,} requests, {soak.errors} errors; the RSS of "
        f"each worker read from /proc {len(totals)} times.",
        "",
        f"- All workers: start {totals[0]:.0f} MiB, after the first fifth "
        f"{totals[soak.warm_index]:.0f} MiB, end {totals[-1]:.0f} MiB, max {max(totals):.0f} "
        f"MiB; slope after the first fifth {soak.slope_mib_per_min():+.2f} MiB/min.",
        *(f"- {line}" for line in per_worker),
        "",
    ]


def _machine_section(report: Report) -> list[str]:
    facts = {**report.machine, **report.versions}
    return ["## Machine", "", *_table(["", ""], [[k, v] for k, v in facts.items()]), ""]


def _settings_section(report: Report) -> list[str]:
    s = report.settings
    return [
        "## Command and settings",
        "",
        f"- Command: `{report.command}`",
        f"- Date: {report.started:%Y-%m-%d %H:%M} UTC; the whole run took "
        f"{report.elapsed_seconds:.0f} s.",
        f"- Database `{s.database}`: `manage.py seed_demo --users {s.users} --messages "
        f"{s.messages}` (filled once, reused while the sizes match), migrated each run.",
        f"- gunicorn `bench.wsgi`: {s.workers} workers x {s.threads} threads (gthread, "
        "keep-alive), on 127.0.0.1.",
        f"- Load: wrk (bench/wrk.lua), one client for the pages and their bare view, "
        f"{s.concurrency} for the concurrent bare view and refresh, "
        f"{HTTP_SCENARIOS['login'].connections} for login (measured for at least twice as "
        f"long); {s.warmup:g} s "
        f"warm-up then {s.duration:g} s measured, {s.repeats} interleaved rounds of every "
        "scenario.",
        "- Service environment (set by the harness, whatever the shell or a local .env says): "
        + ", ".join(f"`{name}={value}`" for name, value in s.service_env.items())
        + ".",
        "",
    ]


HOW_TO_READ = """\
## How to read this

Every scenario runs on a demo database filled by `manage.py seed_demo` at the size
stated in the summary, with PostgreSQL's default settings. Targets are judged
against a baseline measured in the same run: a page's p50 beside the bare DRF view
of the same server (`/bench/bare`: the middleware stack and nothing else); the
daily reset beside one bare `UPDATE` of the same rows; the flush beside one
`INSERT` per message and a raw `COPY`; login beside the bare password check.

Load comes from wrk (a C load generator) driven by `bench/wrk.lua`, which rotates
through the prepared requests, counts every non-2xx answer as an error (the run
fails on any) and prints the latency percentiles. Pages are measured with one
client: p50 is then the time a request takes, not time spent queued. Throughput
scenarios (login, refresh, the concurrent bare view) use several clients; "per
core" divides by the machine's cores, which gunicorn, PostgreSQL, Redis and wrk
share. p50 and p99 are the median over the rounds of each round's percentile.
"CPU ms" is the CPU time (user + system, from /proc) each part of the set-up spent
during the run divided by its answers, including the processes that ended during it
(a PostgreSQL connection Django closed after CONN_MAX_AGE, wrk itself), whose time
their parent holds once it has reaped them.

The token refresh scenario gives each client its own login session, made fresh
before each run, and sends each answer's new refresh token with the next request:
a rotated token sent twice would be taken as theft and revoke the session.

The machine is small and shared with other work (the machine table shows how busy
its CPUs were before and after): absolute figures move from run to run, the ratios
against a same-run baseline much less. A `--quick` run (small database, short runs)
checks the harness; only a full run is committed here.

The metered call runs with the shipped lossless default (MESSAGE_RELAY_GATHER_MS=0):
its log entry reaches Redis before the answer leaves, and the harness has no Celery
broker, so every 50th entry's flush runs inline and its cost is in the figures.
"""


KEPT_HEADING = "## Demo data"


def kept_sections(previous: str) -> str:
    """The hand-kept tail of the previous report (from KEPT_HEADING on), or nothing."""
    start = previous.find(f"\n{KEPT_HEADING}\n")
    return "" if start < 0 else "\n" + previous[start:].strip("\n") + "\n"


def render(report: Report) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`bench/run.py`); re-run it to refresh, do not edit by hand.",
        "",
        *_summary_section(report),
        *_profile_section(report),
        *_results_section(report),
        *_batch_section(report),
        *_hash_section(report),
        *_soak_section(report),
        *_machine_section(report),
        *_settings_section(report),
        HOW_TO_READ,
    ]
    return "\n".join(lines)
