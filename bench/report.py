"""Turn measured runs into docs/BENCHMARKS.md: figures, the aims (ratios) and whether they are met.

Everything shown is computed from the runs passed in; nothing here is a result.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from bench.cpu import GROUPS as CPU_PARTS
from bench.floor import POSTGRES_ROUND_TRIPS, REDIS_ROUND_TRIPS, Floor
from bench.loadgen import RunResult, Tally, percentile

BARE = "GET /bench/bare (bare DRF view)"
ME = "GET /api/v1/users/me (JWT)"
LOGIN = "POST /api/v1/auth/login"
METERED = "POST /v1/prompt/completions (API key)"
BARE_ALONE = "GET /bench/bare, one client"
METERED_ALONE = "POST /v1/prompt/completions, one client"


class MeteredSet(NamedTuple):
    """The four runs behind the metered aims, and how the report names their server."""

    variant: str
    bare: str
    metered: str
    bare_alone: str
    metered_alone: str

    def names(self) -> tuple[str, str, str, str]:
        return (self.bare, self.metered, self.bare_alone, self.metered_alone)


def _measured_on(variant: str) -> MeteredSet:
    return MeteredSet(
        variant, *(name + variant for name in (BARE, METERED, BARE_ALONE, METERED_ALONE))
    )


# The same four measured again on a second server with one setting changed: credit
# decrements committed without waiting for the disk (docs/api-keys-and-credits.md).
ASYNC_COMMIT_ENV = {"CREDITS_ASYNC_COMMIT": "true"}
ASYNC_COMMIT_LABEL = ", ".join(f"{name}={value}" for name, value in ASYNC_COMMIT_ENV.items())
SHIPPED = _measured_on("")
ASYNC_COMMIT = _measured_on(f" [{ASYNC_COMMIT_LABEL}]")
METERED_SETS = (SHIPPED, ASYNC_COMMIT)
_SHIPPED_SHORT_NAMES = {
    BARE: "bare",
    ME: "`/users/me`",
    METERED: "metered",
    BARE_ALONE: "bare (one client)",
    METERED_ALONE: "metered (one client)",
    LOGIN: "login",
}
SHORT_NAMES = {
    **_SHIPPED_SHORT_NAMES,
    **{
        variant: f"{_SHIPPED_SHORT_NAMES[name]}, async commit"
        for name, variant in zip(SHIPPED.names(), ASYNC_COMMIT.names(), strict=True)
    },
}

LOGIN_AIM = 0.90
ME_AIM = 0.70
METERED_AIM = 0.50
METERED_ADDED_P50_AIM_MS = 2.0


@dataclass(frozen=True)
class HashTiming:
    """Seconds per bare `check_password` at the configured cost, one per call."""

    rounds: int
    seconds: Sequence[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass(frozen=True)
class StepTiming:
    """Microseconds of CPU per call, in one process with no server (`bench.steps`)."""

    bare: float
    metered: float
    key_check: float
    consume: float
    message_log: float
    calls: int
    rounds: int

    @property
    def rest(self) -> float:
        """What the metered call adds beyond the bare view and its three steps timed alone
        (run inside a request, after the rest of its work, the same steps cost more)."""
        return self.metered - self.bare - self.key_check - self.consume - self.message_log


@dataclass(frozen=True)
class BenchSettings:
    """The knobs of one run, reported so that it can be reproduced."""

    workers: int
    threads: int
    cores: int
    concurrency: int
    login_concurrency: int
    warmup: float
    duration: float
    repeats: int
    rounds: int
    hash_samples: int
    database: str
    service_env: dict[str, str]

    @property
    def hashing_processes(self) -> int:
        """Processes that can hash at once: workers, but never more than the cores."""
        return min(self.workers, self.cores)


def share(part: float, whole: float) -> float:
    """part / whole, 0 when nothing was measured (a dead endpoint must not crash the report)."""
    return part / whole if whole else 0.0


@dataclass(frozen=True)
class Ratio:
    """One aim: a measured throughput against its reference, at least `aim` of it."""

    label: str
    numerator: float
    denominator: float
    aim: float

    @property
    def value(self) -> float:
        return share(self.numerator, self.denominator)

    @property
    def met(self) -> bool:
        return self.value >= self.aim

    @property
    def short(self) -> str:
        return f"{self.value:.1%}"

    @property
    def measured(self) -> str:
        return f"{self.short} ({self.numerator:.1f} / {self.denominator:.1f} req/s)"

    @property
    def aim_text(self) -> str:
        return f">= {self.aim:.0%}"


@dataclass(frozen=True)
class AddedLatency:
    """One aim: a p50 latency minus its reference p50 (seconds), at most `aim_ms`."""

    label: str
    latency: float
    reference: float
    aim_ms: float

    @property
    def value(self) -> float:
        """The added latency in milliseconds (NaN when either side has no successes)."""
        return (self.latency - self.reference) * 1000

    @property
    def met(self) -> bool:
        return self.value <= self.aim_ms  # False for NaN: nothing measured is not a pass

    @property
    def short(self) -> str:
        return f"{self.value:.2f} ms"

    @property
    def measured(self) -> str:
        return f"{self.short} ({self.latency * 1000:.2f} - {self.reference * 1000:.2f} ms)"

    @property
    def aim_text(self) -> str:
        return f"<= {self.aim_ms:.1f} ms"


@dataclass(frozen=True)
class Report:
    """Everything one run measured and the context needed to judge it."""

    command: str
    started: datetime
    elapsed_seconds: float
    machine: dict[str, str]
    versions: dict[str, str]
    settings: BenchSettings
    hashing: HashTiming
    floor: Floor
    steps: StepTiming
    results: dict[str, list[RunResult]]

    def median_throughput(self, name: str) -> float:
        return statistics.median(run.throughput for run in self.results[name])

    def p50(self, name: str) -> float:
        """Median latency (seconds) of the successful requests of all rounds together."""
        return _p50(_pooled(self.results[name]))

    @property
    def hash_bound_limit(self) -> float:
        """Logins per second if every usable core did nothing but one bcrypt check each."""
        return self.settings.hashing_processes / self.hashing.median

    def ratios(self) -> list[Ratio | AddedLatency]:
        return [
            Ratio(
                "Login throughput / hash-bound limit",
                self.median_throughput(LOGIN),
                self.hash_bound_limit,
                LOGIN_AIM,
            ),
            Ratio(
                "`/users/me` throughput / bare DRF view",
                self.median_throughput(ME),
                self.median_throughput(BARE),
                ME_AIM,
            ),
            *(aim for runs in METERED_SETS for aim in self._metered_aims(runs)),
        ]

    def _metered_aims(self, runs: MeteredSet) -> list[Ratio | AddedLatency]:
        return [
            Ratio(
                f"Metered completion throughput / bare DRF view{runs.variant}",
                self.median_throughput(runs.metered),
                self.median_throughput(runs.bare),
                METERED_AIM,
            ),
            AddedLatency(
                "Metered completion added p50 latency, one client (metered p50 - bare p50)"
                + runs.variant,
                self.p50(runs.metered_alone),
                self.p50(runs.bare_alone),
                METERED_ADDED_P50_AIM_MS,
            ),
        ]


def _pooled(runs: Sequence[RunResult]) -> Tally:
    pooled = Tally()
    for run in runs:
        pooled.merge(run.tally)
    return pooled


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _p50(tally: Tally) -> float:
    return percentile(tally.latencies, 50)


def _errors(tally: Tally) -> str:
    """Error count with what they were, e.g. `3 (401 x2, no answer x1)`."""
    if not tally.errors:
        return "0"
    kinds = [
        f"{status} x{n}" for status, n in sorted(tally.statuses.items()) if not 200 <= status < 300
    ]
    if tally.transport_errors:
        kinds.append(f"no answer x{tally.transport_errors}")
    return f"{tally.errors} ({', '.join(kinds)})"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _summary_section(report: Report) -> list[str]:
    rows = [
        [ratio.label, ratio.measured, ratio.aim_text, "yes" if ratio.met else "**no**"]
        for ratio in report.ratios()
    ]
    return ["## Summary", "", *_table(["Ratio", "Measured", "Aim", "Met"], rows), ""]


def _results_section(report: Report) -> list[str]:
    rows = []
    for name, runs in report.results.items():
        tally = _pooled(runs)
        rows.append(
            [
                name,
                str(runs[0].concurrency),
                f"{report.median_throughput(name):.1f}",
                ", ".join(f"{run.throughput:.1f}" for run in runs),
                _ms(_p50(tally)),
                _ms(percentile(tally.latencies, 99)),
                str(tally.successes),
                _errors(tally),
                f"{statistics.median(run.client_cpu for run in runs):.0%}",
            ]
        )
    header = [
        "Endpoint",
        "Concurrency",
        "Median req/s",
        "Each run (req/s)",
        "p50 ms",
        "p99 ms",
        "Successes",
        "Errors",
        "Load-gen CPU",
    ]
    bare_runs = report.results[BARE]
    me_rounds = ", ".join(
        f"{share(me.throughput, bare.throughput):.1%}"
        for me, bare in zip(report.results[ME], bare_runs, strict=True)
    )
    return [
        "## Results",
        "",
        *_table(header, rows),
        "",
        "Round by round, each pair measured back to back:",
        "",
        f"- `/users/me` / bare: {me_rounds}.",
        *(line for runs in METERED_SETS for line in _metered_rounds(report, runs)),
        "",
    ]


def _metered_rounds(report: Report, runs: MeteredSet) -> list[str]:
    results = report.results
    throughput = ", ".join(
        f"{share(m.throughput, b.throughput):.1%} (+{_ms(_p50(m.tally) - _p50(b.tally))} ms p50)"
        for m, b in zip(results[runs.metered], results[runs.bare], strict=True)
    )
    alone = ", ".join(
        f"+{_ms(_p50(m.tally) - _p50(b.tally))} ms"
        for m, b in zip(results[runs.metered_alone], results[runs.bare_alone], strict=True)
    )
    return [
        f"- metered completion / bare{runs.variant} (added p50 latency): {throughput}.",
        f"- added p50 latency of a metered completion, one client{runs.variant}: {alone}.",
    ]


def cpu_per_request(run: RunResult) -> dict[str, float]:
    """Milliseconds of CPU per successful answer in the window, by part and in total."""
    if not run.tally.successes or not run.window_cpu:
        return {}
    per_request = {
        part: seconds * 1000 / run.tally.successes for part, seconds in run.window_cpu.items()
    }
    return {**per_request, "total": sum(per_request.values())}


def _cpu_medians(report: Report) -> dict[str, dict[str, float]]:
    """Per endpoint, the median over rounds of each part's CPU per request (ms)."""
    medians = {}
    for name, runs in report.results.items():
        measured = [figures for figures in map(cpu_per_request, runs) if figures]
        if measured:
            medians[name] = {
                part: statistics.median(f[part] for f in measured) for part in measured[0]
            }
    return medians


def _cpu_section(report: Report) -> list[str]:
    medians = _cpu_medians(report)
    totals = {name: parts["total"] for name, parts in medians.items()}
    rows = [
        [name, *(f"{parts[part]:.2f}" for part in (*CPU_PARTS, "total"))]
        for name, parts in medians.items()
    ]
    if not rows:
        return []
    lines = [
        "## CPU per request",
        "",
        "CPU time (user + system, read from /proc) spent in the measuring window by each",
        "part of the set-up, divided by the successful answers; median of the rounds, in ms.",
        "",
        *_table(["Endpoint", *CPU_PARTS, "total"], rows),
        "",
    ]
    if totals.get(METERED) and totals.get(BARE):
        lines += [
            "With every core busy, throughput follows CPU per request: the bare view's total "
            f"is {share(totals[BARE], totals[METERED]):.1%} of the metered completion's, to set "
            "against the measured throughput ratio above.",
            "",
        ]
    return lines


def _floor_section(report: Report) -> list[str]:
    """The metered path's unavoidable round trips, and the ceiling they put on its figures."""
    floor = report.floor
    bare_cpu_ms = _cpu_medians(report).get(BARE, {}).get("total")
    rows = [
        [
            trip.name,
            str(count),
            f"{trip.wall_ms:.3f}",
            f"{trip.client_cpu_ms:.3f}",
            f"{trip.server_cpu_ms:.3f}",
        ]
        for trip, count in (
            (floor.redis, REDIS_ROUND_TRIPS),
            (floor.postgres, POSTGRES_ROUND_TRIPS),
        )
    ]
    lines = [
        "## Round-trip floor of the metered path",
        "",
        "A warm metered completion waits on one PostgreSQL round trip (the credit",
        "`UPDATE`, committed durably, as shipped). Its key check is answered from the",
        "process's copies of the cache keys, which Redis invalidates, so the Redis `MGET`",
        "it makes when cold is shown for reference and counted zero times; its",
        "message-log entry is pushed by the relay thread, one push shared by every entry",
        "gathered meanwhile.",
        "Timed alone from the harness process before the service starts; milliseconds per",
        "call, medians for wall time, CPU from /proc and the client's own clock.",
        "",
        *_table(
            ["Round trip", "Per request", "Wall", "Client CPU", "Server CPU"],
            rows,
        ),
        "",
        f"The counted round trips take {floor.wall_ms:.2f} ms of a request's latency, which leaves "
        f"{METERED_ADDED_P50_AIM_MS - floor.wall_ms:.2f} ms of the "
        f"{METERED_ADDED_P50_AIM_MS:.1f} ms added-latency aim for everything else, and "
        f"{floor.cpu_ms:.2f} ms of CPU.",
    ]
    if bare_cpu_ms:
        ceiling = share(bare_cpu_ms, bare_cpu_ms + floor.cpu_ms)
        lines[-1] += (
            " Were everything else the metered path does free, a metered request would"
            f" still cost the bare view's {bare_cpu_ms:.2f} ms plus these, so on a machine"
            f" whose cores are all busy its throughput could reach at most {ceiling:.1%}"
            " of the bare view's."
        )
    return [*lines, ""]


def _steps_section(report: Report) -> list[str]:
    """The metered call's CPU in one process, step by step, beside what serving it cost."""
    steps = report.steps
    rows = [
        ["bare view, through the Django stack", f"{steps.bare:.0f}"],
        ["metered completion, through the Django stack", f"{steps.metered:.0f}"],
        ["- of which the API-key check (warm)", f"{steps.key_check:.0f}"],
        ["- of which the credit `UPDATE`, committed (client side)", f"{steps.consume:.0f}"],
        ["- of which the message log (enqueue, push, flush)", f"{steps.message_log:.0f}"],
        ["- the rest, and what those steps cost more inside a request", f"{steps.rest:.0f}"],
    ]
    lines = [
        "## CPU of the metered path in one process",
        "",
        "Timed by `bench.steps` before the service starts: the benchmark app called",
        "directly (the service's middleware and settings, no HTTP server, no other",
        "client), then the metered call's own steps alone; the process's CPU per call,",
        f"median of {steps.rounds} rounds of {steps.calls} calls, in microseconds.",
        "",
        *_table(["Work", "CPU per call (us)"], rows),
        "",
        f"In one process a metered completion costs {steps.metered / steps.bare:.1f} times"
        f" the bare view ({share(steps.bare, steps.metered):.1%} of its rate on one core).",
    ]
    served = _cpu_medians(report)
    if served.get(METERED) and served.get(BARE):
        bare_ms, metered_ms = served[BARE]["service"], served[METERED]["service"]
        lines[-1] += (
            f" Served by gunicorn at concurrency {report.settings.concurrency}, the service's"
            f" own CPU per request (CPU table) was {bare_ms:.2f} ms for the bare view and"
            f" {metered_ms:.2f} ms for the metered call ({metered_ms / bare_ms:.1f} times):"
            f" the metered call added {metered_ms - bare_ms:.2f} ms there, against"
            f" {(steps.metered - steps.bare) / 1000:.2f} ms in one process."
        )
    return [*lines, ""]


def _hash_section(report: Report) -> list[str]:
    hashing, settings = report.hashing, report.settings
    return [
        "## Hash-bound limit",
        "",
        f"- One bare `check_password` (bcrypt-sha256, BCRYPT_ROUNDS={hashing.rounds}), "
        f"{len(hashing.seconds)} calls in one process with the service's settings: "
        f"median {_ms(hashing.median)} ms (min {_ms(min(hashing.seconds))}, "
        f"max {_ms(max(hashing.seconds))}).",
        f"- Processes hashing at once: min({settings.workers} gunicorn workers, "
        f"{settings.cores} cores) = {settings.hashing_processes}.",
        f"- Limit: {settings.hashing_processes} / {hashing.median:.4f} s = "
        f"**{report.hash_bound_limit:.2f} logins/s**.",
        "",
    ]


def _machine_section(report: Report) -> list[str]:
    facts = {**report.machine, **report.versions}
    return ["## Machine", "", *_table(["", ""], [[k, v] for k, v in facts.items()]), ""]


def _names(report: Report, *, shipped: bool) -> str:
    """The scenarios of the server with the shipped settings, or of the async-commit one."""
    async_commit = set(ASYNC_COMMIT.names())
    names = [name for name in report.results if (name in async_commit) != shipped]
    return ", ".join(SHORT_NAMES.get(name, name) for name in names)


def _settings_section(report: Report) -> list[str]:
    settings = report.settings
    return [
        "## Command and settings",
        "",
        f"- Command: `{report.command}`",
        f"- Date: {report.started:%Y-%m-%d %H:%M} UTC; the whole run took "
        f"{report.elapsed_seconds:.0f} s.",
        f"- gunicorn `bench.wsgi`: {settings.workers} workers x {settings.threads} threads "
        "(gthread, keep-alive), on 127.0.0.1.",
        f"- Load: concurrency {settings.concurrency} for the bare view, `/users/me` and the "
        f"metered completion, 1 for their one-client runs, {settings.login_concurrency} for "
        f"login; {settings.warmup:g} s "
        f"warm-up then {settings.duration:g} s measured, {settings.repeats} rounds, each round "
        f"measuring {_names(report, shipped=True)} and then, on a second server started "
        f"beside the first with `{ASYNC_COMMIT_LABEL}`, {_names(report, shipped=False)}, "
        "back to back (the idle server's processes count as service CPU too; they use next "
        "to none).",
        "- Service environment (set by the harness, whatever the shell or a local .env says): "
        + ", ".join(f"`{name}={value}`" for name, value in settings.service_env.items())
        + f"; database `{settings.database}` (recreated and migrated each run), Redis bench "
        "database flushed each run.",
        "",
    ]


HOW_TO_READ = """\
## How to read this

Each figure is a closed-loop measurement: a fixed number of client threads each
send the next request as soon as the previous answer arrives, over keep-alive
connections on loopback. Throughput counts only 2xx answers completed inside the
measuring window, divided by its length; the median of the rounds is reported,
with every round shown so the spread is visible. p50/p99 are client-side
latencies of the successful requests of all rounds together. Errors are non-2xx
answers plus requests that got no answer. "Load-gen CPU" is the load generator's
own CPU use (median of the rounds) as a share of one core.

The machine is small and noisy (shared virtual CPUs), and the load generator is
a Python process on the same cores as gunicorn, PostgreSQL and Redis: it takes
CPU the server would otherwise have, which weighs more on the fast endpoints
than on login. Other work on the machine lowers every figure: the machine table
shows how busy the CPUs were just before and just after the run, and a wide
spread between rounds is the sign of interference. Compare figures within one
report (the ratios), not across machines or runs.

The hash-bound limit assumes bcrypt scales perfectly over the usable cores and
that a login costs nothing but its one password check, so it is a ceiling: one
minus the login ratio is roughly the share of server time a login spends on
everything else (queries, tokens, the session row, HTTP). The `/users/me` ratio
is the share of the bare view's throughput left after authenticating the JWT,
checking its login session, loading the user and serialising it.

A warm `/users/me` makes no database query and no cache round trip: the session
state, last-seen marker and cached user are read from the process's copies of
those Redis keys, which Redis invalidates the moment they change, so a
revocation still takes effect at once in every process (docs/settings.md,
"Authentication cache copies"). A cold one reads them in one `MGET`, which the
round-trip floor section times alone.

The metered ratio is the share of the bare view's throughput left when each
request, on top of what the bare view does, parses and validates a JSON body,
checks its API key from the cache (a warm request reads the key's state, its
"last used" marker and its owner from the process's copies, no round trip), checks the owner's
role and the key's scopes, takes one conversation credit with one conditional
`UPDATE` that commits on its own, calls the built-in echo backend (no network),
hands one message-log entry to its process's relay and renders a larger answer.
The relay thread pushes the entries gathered over MESSAGE_RELAY_GATHER_MS (20 ms)
onto the Redis queue in one round trip, and every 50th entry queued
(MESSAGE_BATCH_SIZE) makes it write the queued batch with one `COPY`: the harness
runs without a Celery broker, so the flush that a worker does in production runs
inline here and its cost is in the figures. Each client thread has its own user,
so the credit `UPDATE`s do not queue on one row's lock.

One of those steps makes a warm request wait on another server: the committed
PostgreSQL `UPDATE`. The round-trip floor section times it alone,
from Python, before the service starts. On a machine whose cores are all busy,
its CPU (client and server) added to the bare view's bounds the metered ratio
from above, and its wall time is the part of the added latency that no work in
the service can remove.

The added p50 latency aim is judged on the one-client runs: with nothing
queued, metered p50 minus bare p50 is the time the metered path adds to one
request. At concurrency 8 the latencies also carry queueing (in a closed loop
the mean latency is the concurrency divided by the throughput), so the
round-by-round line shows those differences too, for comparison.

Most of a committed `UPDATE`'s wait is PostgreSQL writing its WAL to the disk
before it answers. The second server measures the metered path with
`CREDITS_ASYNC_COMMIT=true`, which lets the decrement's commit answer before that
write (a database crash can then forget the last fraction of a second of
decrements; docs/api-keys-and-credits.md). It is not the shipped setting: its figures show
what that trade buys on this machine, for an operator to weigh.
"""


# Sections written by hand after `make bench`'s own (demo data, then scale), kept
# from this heading on when it rewrites the file.
KEPT_HEADING = "## Demo data"


def kept_sections(previous: str) -> str:
    """The hand-kept tail of the previous report (from KEPT_HEADING on), or nothing."""
    start = previous.find(f"\n{KEPT_HEADING}\n")
    return "" if start < 0 else "\n" + previous[start:].strip("\n") + "\n"


def render(report: Report) -> str:
    """The whole Markdown document."""
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`bench/run.py`); re-run it to refresh, do not edit by hand.",
        "",
        *_summary_section(report),
        *_results_section(report),
        *_cpu_section(report),
        *_floor_section(report),
        *_steps_section(report),
        *_hash_section(report),
        *_machine_section(report),
        *_settings_section(report),
        HOW_TO_READ,
    ]
    return "\n".join(lines)
