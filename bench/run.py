"""Benchmark login, `/users/me` and metered completions on PostgreSQL + Redis; write the report.

Run as `make bench` (`.venv/bin/python bench/run.py --help` lists the options).
It recreates the bench database, migrates it, flushes the bench Redis database,
times a bare password check, the metered path's round trips and, in one process,
its steps (`bench.steps`), serves `bench.wsgi` with gunicorn on loopback,
measures `/users/me`, a bare DRF view, the metered `/v1/prompt/completions` and
login in interleaved rounds (the bare view and the metered call also on a second
gunicorn with CREDITS_ASYNC_COMMIT=true), and writes docs/BENCHMARKS.md. Exit status 2 means
PostgreSQL or Redis could not be used.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    BARE_PATH,
    COMPLETION_BODY,
    COMPLETIONS_PATH,
    PASSWORD,
    REGISTER_PATH,
    cpu,
    floor,
    infra,
    machine,
)
from bench.loadgen import CpuProbe, RunResult, encode_request, request_once, run_load
from bench.report import (
    ASYNC_COMMIT,
    ASYNC_COMMIT_ENV,
    LOGIN,
    ME,
    SHIPPED,
    BenchSettings,
    HashTiming,
    MeteredSet,
    Report,
    StepTiming,
    kept_sections,
    render,
)
from bench.server import ROOT, ServerFailed, gunicorn

LOGIN_PATH = "/api/v1/auth/login"
ME_PATH = "/api/v1/users/me"
# Conversation credits of every new account: enough that no run ever meets a 429.
CREDIT_LIMITS = {"conversation_limit": 1_000_000_000, "reset": 1_000_000_000}
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/um_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
OUTPUT = ROOT / "docs" / "BENCHMARKS.md"


class Scenario(NamedTuple):
    """One measured endpoint of the server on `port`: thread i of `concurrency` sends
    requests[i % len(requests)]."""

    name: str
    port: int
    requests: list[bytes]
    concurrency: int


class BenchUser(NamedTuple):
    """A registered bench user: the email to log in with and the API key shown at sign-up."""

    email: str
    api_key: str


class BenchFailed(RuntimeError):
    """The service did not behave as the benchmark needs (set-up step refused)."""


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Options; each default can also come from the environment for `make bench`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env = os.environ.get
    add = parser.add_argument
    add("--duration", type=float, default=float(env("BENCH_DURATION", "8")), help="seconds")
    add("--warmup", type=float, default=float(env("BENCH_WARMUP", "2")), help="seconds")
    add("--repeats", type=int, default=int(env("BENCH_REPEATS", "3")))
    add("--rounds", type=int, default=int(env("BCRYPT_ROUNDS", "12")), help="BCRYPT_ROUNDS")
    add("--workers", type=int, default=int(env("BENCH_WORKERS", "2")))
    add("--threads", type=int, default=int(env("BENCH_THREADS", "4")))
    add("--concurrency", type=int, default=int(env("BENCH_CONCURRENCY", "8")))
    add("--login-concurrency", type=int, default=int(env("BENCH_LOGIN_CONCURRENCY", "4")))
    add("--hash-samples", type=int, default=int(env("BENCH_HASH_SAMPLES", "20")))
    add("--output", type=Path, default=OUTPUT, help="report file (default docs/BENCHMARKS.md)")
    parser.set_defaults(
        database_url=env("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=env("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
    )
    args = parser.parse_args(argv)
    if min(args.duration, args.repeats, args.workers, args.threads, args.concurrency) <= 0:
        parser.error("duration, repeats, workers, threads and concurrency must be positive")
    return args


def service_env(args: argparse.Namespace) -> dict[str, str]:
    """The service settings the harness forces (shown in the report): quiet logs, the cost.

    Registration is forced open and e-mail verification off, whatever a local .env
    says, because the bench users must be able to log in at once; an empty broker
    keeps Celery tasks inline so nothing leaves the machine. Rate limits and the
    firewall are off: every request comes from one loopback address. The metered
    path is the shipped one: the built-in echo backend (no LLM_BACKEND_URL), the
    message log on, and credits no run can exhaust.
    """
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CACHE_KEY_PREFIX": "um-bench",
        "DEBUG": "false",
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
        "BCRYPT_ROUNDS": str(args.rounds),
        "CELERY_BROKER_URL": "",
        "USER_REGISTRATION_ENABLED": "true",
        "EMAIL_VERIFICATION_ENABLED": "false",
        # The load comes from one address: the per-IP budgets are for clients.
        "RATELIMIT_ENABLE": "false",
        "FIREWALL_ENABLED": "false",
        "DEFAULT_USER_LIMITS": json.dumps(CREDIT_LIMITS),
        "LLM_BACKEND_URL": "",
        "MESSAGE_LOGGING_ENABLED": "true",
        # The shipped defaults of the metered path, whatever a local .env says.
        "MESSAGE_RELAY_GATHER_MS": "20",
        "CREDITS_ASYNC_COMMIT": "false",
        "DATABASE_CONN_HEALTH_CHECKS": "false",
    }


def child_env(args: argparse.Namespace) -> dict[str, str]:
    """Environment of every child process (manage.py, hash timing, gunicorn)."""
    return {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        **service_env(args),
    }


def run_python(env: dict[str, str], *args: str) -> str:
    """Run a Python child in the project root; its stdout, or BenchFailed with its output."""
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise BenchFailed(f"`python {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def prepare_state(args: argparse.Namespace, env: dict[str, str]) -> None:
    """A fresh, migrated database and an empty cache, so every run starts alike."""
    infra.recreate_database(args.database_url)
    infra.flush_redis(args.redis_url)
    run_python(env, "-m", "core.signing_keys")
    run_python(env, "manage.py", "migrate", "--noinput", "--verbosity", "0")


def measure_hash(env: dict[str, str], samples: int) -> HashTiming:
    """Time bare password checks in a separate process with the service's settings."""
    output = run_python(env, "-m", "bench.hashtime", "--samples", str(samples))
    data = json.loads(output.strip().splitlines()[-1])
    return HashTiming(rounds=data["rounds"], seconds=data["seconds"])


def measure_steps(env: dict[str, str]) -> StepTiming:
    """Time the metered call and its steps in one process, on the bench database."""
    output = run_python(env, "-m", "bench.steps")
    return StepTiming(**json.loads(output.strip().splitlines()[-1]))


def _expect(status: int, expected: int, body: dict, step: str) -> None:
    if status != expected:
        raise BenchFailed(f"{step} answered {status}, not {expected}: {body}")


def create_user(port: int, index: int) -> BenchUser:
    """Register a bench user through the product API, which answers with its API key."""
    email = f"loadtester{index}@example.com"
    body = {
        "username": f"loadtester{index}",
        "name": "Bench User",
        "email": email,
        "password": PASSWORD,
    }
    status, answer = request_once(port, encode_request("POST", REGISTER_PATH, port=port, body=body))
    _expect(status, 201, answer, f"register {email}")
    if not str(answer.get("api_key", "")).startswith("pe-"):
        raise BenchFailed(f"register {email} answered no API key: {answer}")
    return BenchUser(email, answer["api_key"])


def login_request(port: int, user: BenchUser) -> bytes:
    return encode_request(
        "POST", LOGIN_PATH, port=port, body={"email": user.email, "password": PASSWORD}
    )


def access_token(port: int, user: BenchUser) -> str:
    status, answer = request_once(port, login_request(port, user))
    _expect(status, 200, answer, f"login {user.email}")
    return answer["access_token"]


def completion_request(port: int, user: BenchUser) -> bytes:
    return encode_request(
        "POST",
        COMPLETIONS_PATH,
        port=port,
        headers={"Authorization": f"Bearer {user.api_key}"},
        body=COMPLETION_BODY,
    )


def check_completion(port: int, request: bytes) -> None:
    """One metered call before measuring: the key is accepted and the echo backend answers."""
    status, answer = request_once(port, request)
    _expect(status, 200, answer, "completion")
    choices = answer.get("choices") or [{}]
    content = str(choices[0].get("message", {}).get("content", ""))
    if answer.get("object") != "chat.completion" or "Hello" not in content:
        raise BenchFailed(f"completion answered an unexpected body: {answer}")


def build_scenarios(port: int, args: argparse.Namespace) -> list[Scenario]:
    """The measured requests, one bench user (token, API key) per client thread.

    Separate users keep concurrent logins (and credit UPDATEs) from queuing on one
    row's lock, which would measure lock waits rather than the path itself. The
    bare view sits between `/users/me` and the metered call so that each ratio
    compares two runs measured back to back. The bare view and the metered call
    are also measured with one client: with nothing queued, the difference of
    their latencies is what the metered path itself adds to a request.
    """
    users = [create_user(port, i) for i in range(max(args.concurrency, args.login_concurrency))]
    me_requests = [
        encode_request(
            "GET", ME_PATH, port=port, headers={"Authorization": f"Bearer {access_token(port, u)}"}
        )
        for u in users[: args.concurrency]
    ]
    login_requests = [login_request(port, u) for u in users[: args.login_concurrency]]
    return [
        Scenario(ME, port, me_requests, args.concurrency),
        *metered_scenarios(SHIPPED, port, users[: args.concurrency], args.concurrency),
        Scenario(LOGIN, port, login_requests, args.login_concurrency),
    ]


def metered_scenarios(
    names: MeteredSet, port: int, users: list[BenchUser], concurrency: int
) -> list[Scenario]:
    """The bare view and the metered call, with `concurrency` clients and with one.

    Each user's metered request is tried once first, so that a refusal fails the run
    now rather than counting as errors.
    """
    metered_requests = [completion_request(port, user) for user in users]
    for request in metered_requests:
        check_completion(port, request)
    bare = encode_request("GET", BARE_PATH, port=port)
    return [
        Scenario(names.bare, port, [bare], concurrency),
        Scenario(names.metered, port, metered_requests, concurrency),
        Scenario(names.bare_alone, port, [bare], 1),
        Scenario(names.metered_alone, port, metered_requests[:1], 1),
    ]


def build_async_commit_scenarios(port: int, args: argparse.Namespace) -> list[Scenario]:
    """The metered runs on the async-commit server, for users of its own."""
    first = max(args.concurrency, args.login_concurrency)
    users = [create_user(port, first + i) for i in range(args.concurrency)]
    return metered_scenarios(ASYNC_COMMIT, port, users, args.concurrency)


def measure(scenarios: list[Scenario], args: argparse.Namespace) -> dict[str, list[RunResult]]:
    """Interleaved rounds (me, bare, metered, login, then the second server's runs, me,
    ...) so drift hits all alike."""
    results: dict[str, list[RunResult]] = {scenario.name: [] for scenario in scenarios}
    for round_number in range(1, args.repeats + 1):
        for scenario in scenarios:
            run = run_load(
                scenario.name,
                port=scenario.port,
                requests=scenario.requests,
                concurrency=scenario.concurrency,
                warmup=args.warmup,
                duration=args.duration,
                cpu_probe=CpuProbe(cpu.snapshot, cpu.spent),
            )
            results[scenario.name].append(run)
            print(
                f"  round {round_number}/{args.repeats} {scenario.name}: "
                f"{run.throughput:.1f} req/s, "
                f"{run.tally.errors} errors",
                flush=True,
            )
    return results


def service_revision() -> str:
    """The commit measured ("-dirty" when the tree has local changes): the code moves fast."""
    result = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def versions(args: argparse.Namespace) -> dict[str, str]:
    return {
        "Service commit": service_revision(),
        "PostgreSQL": infra.postgres_version(args.database_url),
        "Redis": infra.redis_version(args.redis_url),
        "Django": version("django"),
        "gunicorn": version("gunicorn"),
    }


def command_line(argv: Sequence[str]) -> str:
    """How this run was started, as a reader would type it (no machine paths)."""
    return f".venv/bin/python bench/run.py {' '.join(argv)}" if argv else "make bench"


def bench(args: argparse.Namespace, argv: Sequence[str]) -> Report:
    """The whole measurement; gunicorn runs only inside the `with` and always stops."""
    started, clock = datetime.now(UTC), time.monotonic()
    facts = machine.describe()
    infra.check_services(args.database_url, args.redis_url)
    software = versions(args)
    env = child_env(args)
    print("preparing the bench database and cache ...", flush=True)
    prepare_state(args, env)
    print(f"timing {args.hash_samples} password checks ...", flush=True)
    hashing = measure_hash(env, args.hash_samples)
    print("timing the round trips of the metered path alone ...", flush=True)
    round_trips = floor.measure(args.database_url, args.redis_url)
    print("timing the metered path's steps in one process ...", flush=True)
    steps = measure_steps(env)
    results = serve_and_measure(args, env)
    facts["CPU busy just after the run (other processes)"] = machine.cpu_busy()
    return Report(
        command=command_line(argv),
        started=started,
        elapsed_seconds=time.monotonic() - clock,
        machine=facts,
        versions=software,
        settings=bench_settings(args),
        hashing=hashing,
        floor=round_trips,
        steps=steps,
        results=results,
    )


def serve_and_measure(args: argparse.Namespace, env: dict[str, str]) -> dict[str, list[RunResult]]:
    """Serve the shipped settings and, beside them, a second server with credit
    decrements committed asynchronously; every round measures both, so drift hits
    both alike. The servers stop however this ends."""
    server = {"workers": args.workers, "threads": args.threads}
    with tempfile.TemporaryDirectory(prefix="um-bench-") as tmp:
        logs = [Path(tmp) / "gunicorn.log", Path(tmp) / "gunicorn-async-commit.log"]
        with (
            gunicorn(env=env, log_path=logs[0], **server) as shipped,
            gunicorn(env={**env, **ASYNC_COMMIT_ENV}, log_path=logs[1], **server) as async_commit,
        ):
            print("creating bench users and measuring ...", flush=True)
            scenarios = build_scenarios(shipped, args)
            scenarios += build_async_commit_scenarios(async_commit, args)
            results = measure(scenarios, args)
        if any(run.tally.errors for runs in results.values() for run in runs):
            # The logs die with the temporary directory: show why requests failed now.
            for log in logs:
                print(f"{log.name} (end):\n{log.read_text()[-4000:]}", file=sys.stderr)
    return results


def bench_settings(args: argparse.Namespace) -> BenchSettings:
    return BenchSettings(
        workers=args.workers,
        threads=args.threads,
        cores=machine.cpu_cores(),
        concurrency=args.concurrency,
        login_concurrency=args.login_concurrency,
        warmup=args.warmup,
        duration=args.duration,
        repeats=args.repeats,
        rounds=args.rounds,
        hash_samples=args.hash_samples,
        database=infra.database_name(args.database_url),
        service_env=service_env(args),
    )


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """Turn SIGTERM into SystemExit so the `finally` that stops gunicorn still runs."""
    raise SystemExit(128 + signum)


def main(argv: Sequence[str]) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args(argv)
    try:
        report = bench(args, argv)
    except infra.ServiceUnavailable as exc:
        print(f"bench: cannot run: {exc}", file=sys.stderr)
        return 2
    except (BenchFailed, ServerFailed) as exc:
        print(f"bench: failed: {exc}", file=sys.stderr)
        return 1
    previous = args.output.read_text() if args.output.exists() else ""
    args.output.write_text(render(report) + kept_sections(previous))
    for ratio in report.ratios():
        verdict = "met" if ratio.met else "NOT met"
        print(f"{ratio.label}: {ratio.short} (aim {ratio.aim_text}: {verdict})")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
