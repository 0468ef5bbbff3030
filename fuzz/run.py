"""Fuzz every API operation with schemathesis against a live gunicorn.

The service runs on a fresh database with rate limits and the firewall off (so 429s
do not hide everything else). Each identity (a user's access token, a platform
admin's access token, an API key) fuzzes every operation from /openapi.json with
the server-error, status-code, content-type and response-schema checks. Operations
that end the identity they run as (logout, account deletion, password change, key
revocation) run last, each with freshly minted credentials, so they cannot blind
the rest of the run. Any finding makes the exit status non-zero.

Settings (environment):
    FUZZ_EXAMPLES  examples per operation and phase (default 25)
    FUZZ_SEED      schemathesis seed (default 1)
    FUZZ_WORKERS   concurrent schemathesis workers (default 2)
    FUZZ_ARGS      more `schemathesis run` arguments, e.g. "--max-failures 1"
    DATABASE_URL   a PostgreSQL server to hold the fresh `<name>_fuzz` database;
                   without it a fresh SQLite file under var/fuzz/ is used
    REDIS_URL      the cache, as for the service (default: the database cache)
"""

import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = ROOT / "var" / "fuzz"
SCHEMA_PATH = WORK_DIR / "openapi.json"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
START_TIMEOUT_SECONDS = 60
# Meets the password policy: upper, lower and digit are always present.
PASSWORD = f"Fuzz-{secrets.token_urlsafe(12)}-Aa1"

# Operations that end the identity running them when they succeed: each runs alone,
# last, with fresh credentials. By operationId in /openapi.json.
IDENTITY_ENDING = {
    "user": (
        "api_v1_auth_logout_create",
        "v1_users_logout_create",
        "api_v1_auth_change_password_create",
        "api_v1_users_me_change_password_create",
        "v1_users_password_update",
        "api_v1_users_me_destroy",
        "v1_users_account_destroy",
        "v1_users_email_update",
    ),
    "api-key": (
        "api_v1_api_keys_destroy",
        "api_v1_api_keys_rotate_create",
        "v1_users_api_key_regenerate_create",
        "api_v1_users_me_destroy",
        "v1_users_account_destroy",
    ),
}
IDENTITY_ENDING["admin"] = (
    *IDENTITY_ENDING["user"],
    # An admin may suspend, delete or demote any account, itself included.
    "api_v1_users_destroy",
    "api_v1_users_status_create",
    "api_v1_users_roles_create",
    "api_v1_users_bulk_create",
    "api_v1_users_update",
    "api_v1_users_partial_update",
    "v1_admin_panel_users_update",
    "v1_admin_panel_users_partial_update",
    "v1_admin_panel_users_destroy",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database_url() -> str:
    """A new empty database: `<name>_fuzz` beside DATABASE_URL's, or SQLite under var/."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        path = WORK_DIR / "db.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_fuzz"
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        database = sql.Identifier(name)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(database))
    return urlunsplit(parts._replace(path=f"/{name}"))


def server_environment(database_url: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        DATABASE_URL=database_url,
        CACHE_KEY_PREFIX=f"um-fuzz-{uuid.uuid4().hex[:8]}",
        RATELIMIT_ENABLE="false",
        FIREWALL_ENABLED="false",
        ADMIN_REQUIRE_MFA="false",
        IP_WHITELIST_ENABLED="false",
        USER_REGISTRATION_ENABLED="true",
        EMAIL_VERIFICATION_ENABLED="false",
        CELERY_BROKER_URL="",
        # Signing keys of the fuzz run's own, made by `python -m core.signing_keys`.
        SECRET_KEYS_FILE=str(WORK_DIR / "secret-keys.env"),
        # Cheap hashes: the fuzzer logs in and sends passwords thousands of times.
        BCRYPT_ROUNDS="4",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return environment


def manage(environment: dict[str, str], *arguments: str) -> None:
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=environment, check=True)


class Server:
    """gunicorn on a loopback port, stopped (with its workers) on exit."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = WORK_DIR / "server.log"
        self.environment = environment
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=self.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                if httpx.get(f"{self.base_url}/api/v1/health/live", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise SystemExit(f"gunicorn did not start:\n{self.log_path.read_text()[-4000:]}")
            time.sleep(0.3)

    def __exit__(self, *exc_info) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


def create_superusers(environment: dict[str, str], count: int) -> list[str]:
    """`count` platform admins made in one process, as createsuperuser would make them."""
    names = [f"fuzzadmin{index}x{secrets.token_hex(4)}" for index in range(count)]
    code = (
        "from accounts.models import User\n"
        f"for name in {names!r}:\n"
        f"    User.objects.create_superuser(name, name + '@example.com', {PASSWORD!r})\n"
    )
    manage(environment, "shell", "--command", code)
    return names


@dataclass
class Minter:
    """Makes a fresh identity of each kind: users through the public API; admins are
    made ahead in one batch, and anew when an earlier run suspended or deleted them."""

    base_url: str
    environment: dict[str, str]
    admins: list[str]

    def _register_and_login(self) -> str:
        name = f"fuzz{secrets.token_hex(6)}"
        client = httpx.Client(base_url=self.base_url, timeout=30)
        response = client.post(
            "/api/v1/auth/register",
            json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
        )
        response.raise_for_status()
        return self._login(name)

    def _login(self, username: str) -> str:
        response = self._login_response(username)
        response.raise_for_status()
        return response.json()["access_token"]

    def _login_response(self, username: str) -> httpx.Response:
        return httpx.post(
            f"{self.base_url}/api/v1/auth/login",
            json={"username": username, "password": PASSWORD},
            timeout=30,
        )

    def _admin_token(self) -> str:
        while self.admins:
            response = self._login_response(self.admins.pop())
            if response.status_code == 200:
                return response.json()["access_token"]
        return self._login(create_superusers(self.environment, 1)[0])

    def header(self, kind: str) -> str:
        if kind == "user":
            return f"Authorization: Bearer {self._register_and_login()}"
        if kind == "admin":
            return f"Authorization: Bearer {self._admin_token()}"
        if kind == "api-key":
            token = self._register_and_login()
            response = httpx.post(
                f"{self.base_url}/api/v1/api-keys",
                json={"name": "fuzz"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            response.raise_for_status()
            return f"X-API-Key: {response.json()['api_key']}"
        raise ValueError(kind)


def schemathesis(base_url: str, header: str, label: str, *, only: str | None = None) -> int:
    """One schemathesis run; the exit status is non-zero on any finding."""
    command = [
        sys.executable,
        "-m",
        "fuzz.schemathesis_cli",
        "run",
        str(SCHEMA_PATH),
        "--url",
        base_url,
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        os.environ.get("FUZZ_EXAMPLES", "25"),
        "--seed",
        os.environ.get("FUZZ_SEED", "1"),
        "--workers",
        os.environ.get("FUZZ_WORKERS", "2"),
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        # The identity's own credential goes with every request; generated ones would
        # replace it and leave most operations at 401.
        "--generation-with-security-parameters",
        "false",
        "--no-color",
        "--header",
        header,
    ]
    command += shlex.split(os.environ.get("FUZZ_ARGS", ""))
    if only is None:
        for operation_id in IDENTITY_ENDING[label]:
            command += ["--exclude-operation-id", operation_id]
    else:
        command += ["--include-operation-id", only]
    print(f"\n=== fuzz as {label}: {only or 'every operation that keeps the identity'}", flush=True)
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def identity_ending_ids() -> set[str]:
    return {operation_id for ids in IDENTITY_ENDING.values() for operation_id in ids}


def operation_ids(schema: dict) -> set[str]:
    return {
        operation["operationId"]
        for operations in schema["paths"].values()
        for operation in operations.values()
    }


def report_server_errors(log_path: Path) -> None:
    """One line per distinct unhandled exception the server logged: where, and what."""
    seen: dict[tuple[str, str], int] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") != "unhandled_exception":
            continue
        last = (entry.get("exception") or "").strip().splitlines()[-1:] or ["?"]
        key = (entry.get("path", "?"), last[0][:200])
        seen[key] = seen.get(key, 0) + 1
    if seen:
        print("server errors (count, path, exception):")
        for (path, error), count in sorted(seen.items()):
            print(f"  {count:4d}  {path}  {error}")


def main() -> int:
    started = time.monotonic()
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    WORK_DIR.mkdir(parents=True)
    environment = server_environment(fresh_database_url())
    subprocess.run(
        [sys.executable, "-m", "core.signing_keys"], cwd=ROOT, env=environment, check=True
    )
    manage(environment, "migrate", "--noinput", "--verbosity", "0")
    manage(environment, "createcachetable")
    passed: list[str] = []
    failed: list[str] = []
    with Server(environment) as server:
        schema = httpx.get(f"{server.base_url}/openapi.json", timeout=30)
        schema.raise_for_status()
        SCHEMA_PATH.write_bytes(schema.content)
        missing = sorted(identity_ending_ids() - operation_ids(schema.json()))
        if missing:
            raise SystemExit(f"IDENTITY_ENDING names operations the schema lacks: {missing}")
        admins = create_superusers(environment, 1 + len(IDENTITY_ENDING["admin"]))
        minter = Minter(server.base_url, environment, admins)
        for label in ("user", "admin", "api-key"):
            for only in (None, *IDENTITY_ENDING[label]):
                name = f"{label}: {only or 'every operation that keeps the identity'}"
                status = schemathesis(server.base_url, minter.header(label), label, only=only)
                (failed if status else passed).append(name)
    print(f"\nfuzz finished in {time.monotonic() - started:.0f} s; server log: {server.log_path}")
    report_server_errors(server.log_path)
    if failed:
        print("findings in:\n  " + "\n  ".join(failed))
    # One line per schemathesis run, counted the way test runners close.
    print(f"fuzz: {len(passed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
