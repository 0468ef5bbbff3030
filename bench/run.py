"""Benchmark the service on a demo database (`manage.py seed_demo`); write the report.

Run as `make bench` (`.venv/bin/python bench/run.py --help` lists the options;
`--quick` is a small database and short runs). It fills (or reuses) a demo database
at `--users`/`--messages`, times the daily credit reset and the message-log flush
against bare SQL and a bare password check, serves `bench.wsgi` with gunicorn on
loopback and measures each page with wrk (bench/wrk.lua) in interleaved rounds with
its baseline (a bare DRF view of the same server), records with py-spy where each
scenario's time goes, samples the workers' memory over a soak, and writes
docs/BENCHMARKS.md (`--quick`: var/BENCHMARKS-quick.md, git-ignored). Exit status 2 means
PostgreSQL, Redis or wrk could not be used.
"""

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    BARE_PATH,
    COMPLETION_BODY,
    COMPLETIONS_PATH,
    PASSWORD,
    REGISTER_PATH,
    cpu,
    infra,
    machine,
    profile,
)
from bench.profile import Profile
from bench.report import (
    HTTP_SCENARIOS,
    BatchTiming,
    BenchSettings,
    HashTiming,
    MemorySoak,
    Report,
    kept_sections,
    render,
)
from bench.server import ROOT, Server, ServerFailed, gunicorn, worker_pids
from bench.wrk import Request, WrkFailed, WrkMissing, WrkResult, run

LOGIN_PATH = "/api/v1/auth/login"
REFRESH_PATH = "/api/v1/auth/refresh"
# Conversation credits of every new account: enough that no run ever meets a 429.
CREDIT_LIMITS = {"conversation_limit": 1_000_000_000, "reset": 1_000_000_000}
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/um_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
LOGIN_SECONDS = 5
OUTPUT = ROOT / "docs" / "BENCHMARKS.md"
# Quick figures are for checking the harness: they never replace the committed report.
QUICK_OUTPUT = ROOT / "var" / "BENCHMARKS-quick.md"
JSON_HEADERS = {"Content-Type": "application/json"}

# Full run / --quick defaults of each option (the environment can override both).
DEFAULTS = {
    "users": (100_000, 2_000),
    "messages": (1_000_000, 20_000),
    "duration": (8, 2),
    "warmup": (2, 0),
    "repeats": (3, 1),
    "soak": (300, 15),
    "profile_seconds": (5, 1),
    "flush_rows": (1000, 500),
    "batch_repeats": (3, 1),
    "hash_samples": (10, 3),
    "concurrency": (8, 2),
}


class BenchFailed(RuntimeError):
    """The service did not behave as the benchmark needs (set-up step refused)."""


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env = os.environ.get
    add = parser.add_argument
    add("--quick", action="store_true", help="small database, short runs (under two minutes)")
    add("--users", type=int, help="demo accounts (full: 100000, quick: 2000)")
    add("--messages", type=int, help="demo conversations (full: 1000000, quick: 20000)")
    add("--duration", type=float, help="measured seconds of each run (full: 8, quick: 2)")
    add("--warmup", type=float, help="seconds of load before each measured run")
    add("--repeats", type=int, help="interleaved rounds (full: 3, quick: 1)")
    add("--soak", type=float, help="seconds of the memory soak (full: 300, quick: 20)")
    add("--profile-seconds", type=float, help="py-spy seconds per scenario (0: none)")
    add("--flush-rows", type=int, help="conversations per timed flush")
    add("--batch-repeats", type=int, help="repeats of the reset and flush timings")
    add("--hash-samples", type=int, help="bare password checks timed")
    add("--concurrency", type=int, help="clients of the throughput runs (full: 8, quick: 2)")
    add("--workers", type=int, default=int(env("BENCH_WORKERS", "2")))
    add("--threads", type=int, default=int(env("BENCH_THREADS", "4")))
    add(
        "--output",
        type=Path,
        help="report file (default docs/BENCHMARKS.md; --quick: var/BENCHMARKS-quick.md)",
    )
    args = parser.parse_args(argv)
    for name, (full, quick) in DEFAULTS.items():
        if getattr(args, name) is None:
            from_env = env(f"BENCH_{name.upper()}")
            default = quick if args.quick else full
            setattr(args, name, type(default)(from_env) if from_env else default)
    if args.output is None:
        args.output = QUICK_OUTPUT if args.quick else OUTPUT
    args.database_url = env("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    args.redis_url = env("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    if min(args.users, args.duration, args.repeats, args.workers, args.concurrency) <= 0:
        parser.error("users, duration, repeats, workers and concurrency must be positive")
    return args


def demo_database_url(args: argparse.Namespace) -> str:
    """The demo database of these sizes, named after BENCH_DATABASE_URL's."""
    base = infra.database_name(args.database_url)
    return infra.with_database(args.database_url, f"{base}_demo_{args.users}_{args.messages}")


def service_env(args: argparse.Namespace) -> dict[str, str]:
    """The service settings the harness forces (shown in the report).

    Registration is forced open and e-mail verification off, whatever a local .env
    says, because the bench users must be able to log in at once; an empty broker
    keeps Celery tasks inline so nothing leaves the machine. Rate limits and the
    firewall are off: every request comes from one loopback address. The metered
    path is the shipped one: the built-in echo backend, the message log on with the
    lossless push (MESSAGE_RELAY_GATHER_MS=0, the default), credits committed
    durably, and credits no run can exhaust. Passwords are hashed with argon2id at
    its defaults (Keycloak's costs, which the login target is stated for) unless
    PASSWORD_HASH_ALGORITHM names another algorithm.
    """
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CACHE_KEY_PREFIX": "um-bench",
        "DEBUG": "false",
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "",
        "USER_REGISTRATION_ENABLED": "true",
        "EMAIL_VERIFICATION_ENABLED": "false",
        "RATELIMIT_ENABLE": "false",
        "FIREWALL_ENABLED": "false",
        "DEFAULT_USER_LIMITS": json.dumps(CREDIT_LIMITS),
        "LLM_BACKEND_URL": "",
        "MESSAGE_LOGGING_ENABLED": "true",
        "MESSAGE_RELAY_GATHER_MS": "0",
        "CREDITS_ASYNC_COMMIT": "false",
        "DATABASE_CONN_HEALTH_CHECKS": "false",
        "PASSWORD_HASH_ALGORITHM": os.environ.get("PASSWORD_HASH_ALGORITHM", "argon2id"),
    }


def child_env(args: argparse.Namespace, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        **service_env(args),
    }


def run_python(env: dict[str, str], *args: str, capture: bool = True) -> str:
    """Run a Python child in the project root; its stdout, or BenchFailed with its output."""
    result = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
        text=True,
        check=False,
    )
    if result.returncode:
        raise BenchFailed(f"`python {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")
    return result.stdout or ""


def last_json(output: str) -> dict:
    """The last JSON object line a child printed (py-spy adds lines of its own)."""
    return json.loads([line for line in output.splitlines() if line.startswith("{")][-1])


def ensure_demo_database(args: argparse.Namespace, url: str, env: dict[str, str]) -> bool:
    """Fill the demo database unless a finished fill of these sizes is there; migrate it
    too when its migrations changed since. True if it was filled now."""
    wanted = {"users": args.users, "messages": args.messages}
    marker = infra.demo_marker(url) or {}
    fill = {k: marker.get(k) for k in wanted} != wanted
    run_python(env, "-m", "core.signing_keys")
    migrations = migrations_fingerprint()
    if fill:
        print(f"filling the demo database ({args.users} users, {args.messages} messages) ...")
        infra.recreate_database(url)
        run_python(env, "manage.py", "migrate", "--noinput", "--verbosity", "0")
        seed = ["manage.py", "seed_demo", "--users", str(args.users), "--messages"]
        seed += [str(args.messages), "--yes-this-is-a-demo-database"]
        # The demo accounts get the shipped default credits (the bench's own are
        # unbounded, and scaled by a plan they would overflow).
        fill_env = {k: v for k, v in env.items() if k != "DEFAULT_USER_LIMITS"}
        progress = ["--no-progress"] if args.quick else []
        run_python(fill_env, *seed, *progress, capture=args.quick)
    else:
        print(f"reusing the demo database ({args.users} users, {args.messages} messages) ...")
        if marker.get("migrations") != migrations:
            run_python(env, "manage.py", "migrate", "--noinput", "--verbosity", "0")
    infra.set_demo_marker(url, {**wanted, "migrations": migrations})
    return fill


def migrations_fingerprint() -> str:
    """A digest of every migration file: a reused database is migrated when it changes."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:16]


class Client:
    """Set-up calls to the served app (register, log in, check a page answers)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.http = httpx.Client(base_url=self.base, timeout=60)

    def call(self, method: str, path: str, *, expect: int = 200, **kwargs) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        if response.status_code != expect:
            raise BenchFailed(
                f"{method} {path} answered {response.status_code}, not {expect}: "
                f"{response.text[:500]}"
            )
        return response

    def token(self, path: str, email: str, password: str) -> str:
        """The access token a JSON login answers (the product API or a panel's)."""
        answer = self.call("POST", path, json={"email": email, "password": password}).json()
        found = answer.get("access_token") or _find_token(answer)
        if not found:
            raise BenchFailed(f"{path} answered no token: {answer}")
        return found

    def refresh_token(self, email: str, password: str) -> str:
        answer = self.call("POST", LOGIN_PATH, json={"email": email, "password": password}).json()
        return answer["refresh_token"]

    def admin_cookie(self, username: str, password: str) -> str:
        """A Django admin session: the login form, its CSRF token, the session cookie."""
        with httpx.Client(base_url=self.base, timeout=60) as browser:
            form = browser.get("/admin/login/")
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
            if not csrf:
                raise BenchFailed("the admin login page has no CSRF token")
            answer = browser.post(
                "/admin/login/?next=/admin/",
                data={"csrfmiddlewaretoken": csrf[1], "username": username, "password": password},
                headers={"Referer": f"{self.base}/admin/login/"},
            )
            if answer.status_code != 302:
                raise BenchFailed(f"admin login answered {answer.status_code}")
            return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def _find_token(answer: dict) -> str | None:
    """The first `access_token`/`session_token` value anywhere in a login answer."""
    for key, value in answer.items():
        if key in {"access_token", "session_token", "token"} and isinstance(value, str):
            return value
        if isinstance(value, dict) and (found := _find_token(value)):
            return found
    return None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register_users(client: Client, count: int) -> list[dict]:
    """Fresh accounts with this run's prefix (the default, unbounded credits), and their
    API keys; registering hashes a password, so two at a time."""
    tag = uuid.uuid4().hex[:8]

    def one(index: int) -> dict:
        name = f"bench{tag}{index}"
        body = {"username": name, "name": "Bench User", "email": f"{name}@example.com"}
        answer = client.call("POST", REGISTER_PATH, expect=201, json={**body, "password": PASSWORD})
        return {"email": body["email"], "api_key": answer.json()["api_key"]}

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, range(count)))


def http_scenarios(
    client: Client, people: dict, users: list[dict], args
) -> dict[str, list[Request]]:
    """The requests of each HTTP scenario (bench.report.HTTP_SCENARIOS), each tried once."""
    password = people["password"]
    admin = bearer(client.token(LOGIN_PATH, people["admin_email"], password))
    support = bearer(client.token("/v1/support/login", people["support_email"], password))
    busiest = people["busiest"]
    owner = bearer(client.token(LOGIN_PATH, busiest["email"], password))
    cookie = {"Cookie": client.admin_cookie(people["admin_email"], password)}
    users_path = "/api/v1/users/?status=active&ordering=-created_at&cursor="
    first = client.call("GET", users_path, headers=admin).json()
    next_link = first.get("next") or (first.get("pagination") or {}).get("next")
    second = _path_of(next_link) if next_link else users_path
    metered = [metered_request(user) for user in users]
    logins = [
        Request(
            "POST",
            LOGIN_PATH,
            JSON_HEADERS,
            json.dumps({"email": u["email"], "password": PASSWORD}),
        )
        for u in users
    ]
    get = lambda path, headers: Request("GET", path, headers)  # noqa: E731
    scenarios = {
        "bare": [get(BARE_PATH, {})],
        "admin_changelist": [get("/admin/accounts/user/", cookie)],
        "admin_search": [
            get(f"/admin/accounts/user/?q={people['surname']}", cookie),
            get("/admin/accounts/user/?q=qzxjnomatch", cookie),
        ],
        "users_keyset": [get(users_path, admin), get(second, admin)],
        "admin_statistics": [get("/v1/admin-panel/statistics", admin)],
        "admin_dashboard": [get("/admin/", cookie)],
        "messages_admin_panel": [get(f"/v1/admin-panel/message-logs/{busiest['id']}", admin)],
        "messages_support": [get(f"/v1/support/users/{busiest['id']}/messages", support)],
        "messages_me": [get("/api/v1/users/me/messages", owner)],
        "metered": metered[:1],
        "bare_concurrent": [get(BARE_PATH, {})],
        "login": logins,
        "refresh": [],  # made fresh for every run (see refresh_requests)
    }
    for requests in scenarios.values():
        for request in requests:
            client.call(request.method, request.path, headers=request.headers, content=request.body)
    return scenarios


def metered_request(user: dict) -> Request:
    headers = {**JSON_HEADERS, **bearer(user["api_key"])}
    return Request("POST", COMPLETIONS_PATH, headers, json.dumps(COMPLETION_BODY))


def _path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def refresh_requests(client: Client, users: list[dict]) -> list[Request]:
    """One fresh login session per client: a rotated token must never be sent twice (the
    reuse it signals revokes the session), and a run's last answer may go unread."""
    body = json.dumps({"refresh_token": "{{chain}}"})

    def one(user: dict) -> Request:
        token = client.refresh_token(user["email"], PASSWORD)
        return Request("POST", REFRESH_PATH, JSON_HEADERS, body, chain=token)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, users))


def connections_of(key: str, args: argparse.Namespace) -> int:
    return HTTP_SCENARIOS[key].connections or args.concurrency


def measure_once(server: Server, key: str, requests, args, seconds: float) -> WrkResult:
    """One wrk run of a scenario; a login takes a hash of up to a second on a busy
    machine, so its runs last twice as long, and at least LOGIN_SECONDS, to count
    more than a few."""
    chain = "refresh_token" if key == "refresh" else None
    if key == "login":
        seconds = max(2 * seconds, LOGIN_SECONDS)
    return run(
        server.port,
        requests,
        connections=connections_of(key, args),
        seconds=seconds,
        chain=chain,
        cpu_probe=(cpu.snapshot, cpu.spent),
    )


def measure_rounds(
    server: Server, client: Client, scenarios, users, args
) -> dict[str, list[WrkResult]]:
    """Interleaved rounds: every scenario and its baseline in each round, so drift hits all
    alike. Each run is a warm-up then the measured run."""
    results: dict[str, list[WrkResult]] = {key: [] for key in scenarios}
    for number in range(1, args.repeats + 1):
        for key in scenarios:
            requests = refresh_requests(client, users) if key == "refresh" else scenarios[key]
            if args.warmup >= 1 and key != "refresh":
                measure_once(server, key, requests, args, args.warmup)
            result = measure_once(server, key, requests, args, args.duration)
            if result.errors:
                raise BenchFailed(
                    f"{key}: {result.errors} errors (first non-2xx status "
                    f"{result.first_bad_status}, {result.socket_errors} socket errors)"
                )
            results[key].append(result)
            print(
                f"  round {number}/{args.repeats} {key}: {result.throughput:.1f} req/s, "
                f"p50 {result.p50_ms:.1f} ms",
                flush=True,
            )
    return results


def profile_scenarios(server: Server, client: Client, scenarios, users, args, tmp: Path) -> dict:
    """py-spy on every worker while each scenario runs once more (not measured)."""
    if args.profile_seconds <= 0 or profile.py_spy() is None:
        return {}
    profiles = {}
    for key in scenarios:
        if key in {"bare", "bare_concurrent"}:
            continue
        requests = refresh_requests(client, users) if key == "refresh" else scenarios[key]
        with ThreadPoolExecutor(1) as pool:
            load = pool.submit(measure_once, server, key, requests, args, args.profile_seconds + 1)
            time.sleep(0.3)
            out = tmp / key
            out.mkdir()
            files = profile.record(worker_pids(server.master), args.profile_seconds, out)
            load.result()
        profiles[key] = profile.summarise(
            profile.read(files), focus=("ThreadWorker.handle_request",)
        )
        print(f"  profiled {key}: {profiles[key].samples} samples", flush=True)
    return profiles


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory_soak(server: Server, scenarios, users: list[dict], args) -> MemorySoak:
    """Mixed requests for `--soak` seconds while every worker's RSS is sampled; each
    client's metered calls are its own user's, so no two wait on one credit row."""
    mix = [
        *(metered_request(user) for user in users),
        *scenarios["users_keyset"],
        *scenarios["messages_me"],
        *scenarios["admin_changelist"],
        *scenarios["admin_statistics"],
        *scenarios["bare"],
    ]
    pids = worker_pids(server.master)
    interval = max(1.0, args.soak / 60)
    samples: list[tuple[float, list[float]]] = []
    with ThreadPoolExecutor(1) as pool:
        load = pool.submit(run, server.port, mix, connections=args.concurrency, seconds=args.soak)
        started = time.monotonic()
        while not load.done():
            samples.append((time.monotonic() - started, [rss_mib(pid) for pid in pids]))
            time.sleep(interval)
        result = load.result()
    return MemorySoak(
        seconds=args.soak,
        requests=result.requests,
        errors=result.errors,
        times=[t for t, _ in samples],
        rss_mib=[sizes for _, sizes in samples],
        workers=len(pids),
    )


def serve_and_measure(args, env: dict[str, str], people: dict):
    server_options = {"workers": args.workers, "threads": args.threads}
    with tempfile.TemporaryDirectory(prefix="um-bench-") as tmp_name:
        tmp = Path(tmp_name)
        log = tmp / "gunicorn.log"
        try:
            with gunicorn(env=env, log_path=log, **server_options) as server:
                client = Client(server.port)
                print("registering bench users and checking every page ...", flush=True)
                users = register_users(client, args.concurrency)
                scenarios = http_scenarios(client, people, users, args)
                print("measuring ...", flush=True)
                results = measure_rounds(server, client, scenarios, users, args)
                print("profiling ...", flush=True)
                profiles = profile_scenarios(server, client, scenarios, users, args, tmp)
                print(f"memory soak ({args.soak:g} s) ...", flush=True)
                soak = memory_soak(server, scenarios, users, args)
        except (BenchFailed, WrkFailed):
            print(f"gunicorn log (end):\n{log.read_text()[-4000:]}", file=sys.stderr)
            raise
    return results, profiles, soak


def measure_in_process(args, env: dict[str, str]) -> tuple[dict, dict[str, Profile]]:
    """bench.prepare's figures, and (py-spy recording it whole) where the jobs' time goes."""
    child = [sys.executable, "-m", "bench.prepare", "--hash-samples", str(args.hash_samples)]
    child += ["--flush-rows", str(args.flush_rows), "--batch-repeats", str(args.batch_repeats)]
    with tempfile.TemporaryDirectory(prefix="um-bench-prepare-") as tmp:
        raw = Path(tmp) / "prepare.txt"
        spy = profile.command(raw, child) if args.profile_seconds > 0 else None
        result = subprocess.run(
            spy or child, cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise BenchFailed(f"bench.prepare failed:\n{result.stdout}{result.stderr}")
        lines = profile.read([raw]) if raw.exists() else []
    profiles = {}
    if lines:
        profiles["reset"] = profile.summarise(lines, focus=("daily_reset",))
        profiles["flush"] = profile.summarise(lines, focus=("flush",))
    return last_json(result.stdout), profiles


def service_revision() -> str:
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
        "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        .stdout.split("[")[0]
        .strip()
        or "wrk",
        "py-spy": version("py-spy") if profile.py_spy() else "not installed",
    }


def command_line(argv: Sequence[str]) -> str:
    return f".venv/bin/python bench/run.py {' '.join(argv)}" if argv else "make bench"


def bench(args: argparse.Namespace, argv: Sequence[str]) -> Report:
    started, clock = datetime.now(UTC), time.monotonic()
    facts = machine.describe()
    infra.check_services(args.database_url, args.redis_url)
    software = versions(args)
    url = demo_database_url(args)
    env = child_env(args, url)
    ensure_demo_database(args, url, env)
    infra.flush_redis(args.redis_url)
    print("timing password checks, the daily reset and the flush (bare SQL beside) ...")
    people, job_profiles = measure_in_process(args, env)
    hashing = HashTiming(**people["hashing"])
    flush = people["flush"]
    batch = BatchTiming(**people["reset"], **{f"flush_{k}": v for k, v in flush.items()})
    results, profiles, soak = serve_and_measure(args, env, people)
    facts["CPU busy just after the run (other processes)"] = machine.cpu_busy()
    return Report(
        command=command_line(argv),
        started=started,
        elapsed_seconds=time.monotonic() - clock,
        machine=facts,
        versions=software,
        settings=BenchSettings(
            quick=args.quick,
            users=args.users,
            messages=args.messages,
            busiest_messages=people["busiest"]["messages"],
            workers=args.workers,
            threads=args.threads,
            cores=machine.cpu_cores(),
            concurrency=args.concurrency,
            warmup=args.warmup,
            duration=args.duration,
            repeats=args.repeats,
            profile_seconds=args.profile_seconds,
            database=infra.database_name(url),
            service_env=service_env(args),
        ),
        hashing=hashing,
        batch=batch,
        results=results,
        profiles={**profiles, **job_profiles},
        soak=soak,
    )


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str]) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args(argv)
    try:
        report = bench(args, argv)
    except (infra.ServiceUnavailable, WrkMissing) as exc:
        print(f"bench: cannot run: {exc}", file=sys.stderr)
        return 2
    except (BenchFailed, ServerFailed, WrkFailed) as exc:
        print(f"bench: failed: {exc}", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    previous = args.output.read_text() if args.output.exists() else ""
    args.output.write_text(render(report) + kept_sections(previous))
    for target in report.targets():
        print(f"{target.label}: {target.measured} (target {target.aim}: {target.verdict})")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
