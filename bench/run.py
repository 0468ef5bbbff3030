"""Benchmark login and `/users/me` on PostgreSQL + Redis under gunicorn; write the report.

Run as `make bench` (`.venv/bin/python bench/run.py --help` lists the options).
It recreates the bench database, migrates it, flushes the bench Redis database,
times a bare password check, serves `bench.wsgi` with gunicorn on loopback,
measures a bare DRF view, `/users/me` and login in interleaved rounds, and writes
docs/BENCHMARKS.md. Exit status 2 means PostgreSQL or Redis could not be used.
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

from bench import BARE_PATH, infra, machine
from bench.loadgen import RunResult, encode_request, request_once, run_load
from bench.report import BARE, LOGIN, ME, BenchSettings, HashTiming, Report, render
from bench.server import ROOT, ServerFailed, gunicorn

PASSWORD = "BenchPass123"
LOGIN_PATH = "/api/v1/auth/login"
ME_PATH = "/api/v1/users/me"
REGISTER_PATH = "/api/v1/auth/register"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/um_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
OUTPUT = ROOT / "docs" / "BENCHMARKS.md"


class Scenario(NamedTuple):
    """One measured endpoint: thread i of `concurrency` sends requests[i % len(requests)]."""

    name: str
    requests: list[bytes]
    concurrency: int


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


def child_env(args: argparse.Namespace) -> dict[str, str]:
    """Environment of every child process: the bench servers, quiet logs, the chosen cost.

    Registration is forced open and e-mail verification off, whatever a local .env
    says, because the bench users must be able to log in at once; an empty broker
    keeps Celery tasks inline so nothing leaves the machine. Rate limits and the
    firewall are off: every request comes from one loopback address.
    """
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
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
    run_python(env, "manage.py", "migrate", "--noinput", "--verbosity", "0")


def measure_hash(env: dict[str, str], samples: int) -> HashTiming:
    """Time bare password checks in a separate process with the service's settings."""
    output = run_python(env, "-m", "bench.hashtime", "--samples", str(samples))
    data = json.loads(output.strip().splitlines()[-1])
    return HashTiming(rounds=data["rounds"], seconds=data["seconds"])


def _expect(status: int, expected: int, body: dict, step: str) -> None:
    if status != expected:
        raise BenchFailed(f"{step} answered {status}, not {expected}: {body}")


def create_user(port: int, index: int) -> str:
    """Register a bench user through the real endpoint; returns the email to log in with."""
    email = f"loadtester{index}@example.com"
    body = {
        "email": email,
        "username": f"loadtester{index}",
        "password": PASSWORD,
        "first_name": "Load",
    }
    status, answer = request_once(port, encode_request("POST", REGISTER_PATH, port=port, body=body))
    _expect(status, 201, answer, f"register {email}")
    return email


def login_request(port: int, email: str) -> bytes:
    return encode_request(
        "POST", LOGIN_PATH, port=port, body={"email": email, "password": PASSWORD}
    )


def access_token(port: int, email: str) -> str:
    status, answer = request_once(port, login_request(port, email))
    _expect(status, 200, answer, f"login {email}")
    return answer["access_token"]


def build_scenarios(port: int, args: argparse.Namespace) -> list[Scenario]:
    """The three measured requests, one bench user (and token) per client thread.

    Separate users keep concurrent logins from queuing on one user row's lock,
    which would measure lock waits rather than the login path.
    """
    users = [create_user(port, i) for i in range(max(args.concurrency, args.login_concurrency))]
    me_requests = [
        encode_request(
            "GET", ME_PATH, port=port, headers={"Authorization": f"Bearer {access_token(port, u)}"}
        )
        for u in users[: args.concurrency]
    ]
    login_requests = [login_request(port, u) for u in users[: args.login_concurrency]]
    bare = encode_request("GET", BARE_PATH, port=port)
    return [
        Scenario(BARE, [bare], args.concurrency),
        Scenario(ME, me_requests, args.concurrency),
        Scenario(LOGIN, login_requests, args.login_concurrency),
    ]


def measure(
    port: int, scenarios: list[Scenario], args: argparse.Namespace
) -> dict[str, list[RunResult]]:
    """Interleaved rounds (bare, me, login, bare, ...) so drift on a noisy host hits all alike."""
    results: dict[str, list[RunResult]] = {scenario.name: [] for scenario in scenarios}
    for round_number in range(1, args.repeats + 1):
        for scenario in scenarios:
            run = run_load(
                scenario.name,
                port=port,
                requests=scenario.requests,
                concurrency=scenario.concurrency,
                warmup=args.warmup,
                duration=args.duration,
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
        "Redis round trip (PING from Python, median)": (
            f"{infra.redis_round_trip_microseconds(args.redis_url):.0f} µs"
        ),
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
        results=results,
    )


def serve_and_measure(args: argparse.Namespace, env: dict[str, str]) -> dict[str, list[RunResult]]:
    """Start gunicorn, create the users, measure; the server stops however this ends."""
    with tempfile.TemporaryDirectory(prefix="um-bench-") as tmp:
        log_path = Path(tmp) / "gunicorn.log"
        with gunicorn(
            env=env, workers=args.workers, threads=args.threads, log_path=log_path
        ) as port:
            print("creating bench users and measuring ...", flush=True)
            results = measure(port, build_scenarios(port, args), args)
        if any(run.tally.errors for runs in results.values() for run in runs):
            # The log dies with the temporary directory: show why requests failed now.
            print(f"gunicorn log (end):\n{log_path.read_text()[-4000:]}", file=sys.stderr)
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
    args.output.write_text(render(report))
    for ratio in report.ratios():
        verdict = "met" if ratio.met else "NOT met"
        print(f"{ratio.label}: {ratio.value:.1%} (aim {ratio.aim:.0%}: {verdict})")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
