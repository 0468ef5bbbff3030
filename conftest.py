"""Fixtures shared by every app's tests, and the guards CI relies on.

With DATABASE_URL and REDIS_URL set the whole suite runs against PostgreSQL and
Redis; without them it runs on SQLite and the database cache. `REQUIRE_SERVICES=1`
(set by CI) fails the run unless the real servers are in use, and
`FAIL_ON_SKIP=1` turns any skipped test into a failed run.
"""

import fcntl
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from celery.result import allow_join_result

BASE_DIR = Path(__file__).resolve().parent


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    lines = [f"service backends: database={engine} cache={cache}"]
    if engine != "postgresql" or cache != "RedisCache":
        lines.append(
            "not on PostgreSQL + Redis: set DATABASE_URL and REDIS_URL to run the suite "
            "against the production engines (as CI does)"
        )
    return lines


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.conf import settings

    distributed = getattr(session.config.option, "dist", "no") != "no"
    if distributed and not hasattr(session.config, "workerinput"):  # xdist's controller
        _refuse_a_shared_redis(settings)
    if os.environ.get("REQUIRE_SERVICES") != "1":
        return

    engine = settings.DATABASES["default"]["ENGINE"]
    backend = settings.CACHES["default"]["BACKEND"]
    if "postgresql" not in engine or "redis" not in backend.lower():
        pytest.exit(
            f"REQUIRE_SERVICES=1 but the suite is on {engine} and {backend}; "
            "set DATABASE_URL and REDIS_URL.",
            returncode=3,
        )


def _refuse_a_shared_redis(settings) -> None:
    """Test processes must not share a Redis database: core/tests/xdist_services.py
    moves each to its own through REDIS_URL (redis://) or REDIS_DB, not through a
    broker URL of its own or a socket path."""
    shared = [
        name
        for name in ("CELERY_BROKER_URL", "EVENTS_BROKER_URL")
        if os.environ.get(name, "").startswith(("redis", "unix"))
    ]
    if settings.REDIS_URL.startswith("unix"):
        shared.append("REDIS_URL")
    if shared:
        pytest.exit(
            f"Several test processes would share Redis through {', '.join(shared)}: "
            "run with TEST_PROCESSES=0 (one process), or name Redis by REDIS_URL alone.",
            returncode=3,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        reporter.write_line(f"FAIL_ON_SKIP=1: {skipped} test(s) were skipped.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _database_fixture_for(request: pytest.FixtureRequest) -> str | None:
    if "transactional_db" in request.fixturenames:
        return "transactional_db"
    if "db" in request.fixturenames:
        return "db"
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        return "transactional_db" if marker.kwargs.get("transaction") else "db"
    return None


@pytest.fixture
def _redis_server_turn(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Under pytest-xdist, a test marked `redis_server_wide` runs while no other worker
    runs one: it does what reaches every database of the Redis server the workers
    share (`CLIENT PAUSE`). Every other test holds the turn shared; without xdist
    there is no one to wait for."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    exclusive = request.node.get_closest_marker("redis_server_wide") is not None
    # The base temporary directory's parent is the same for every worker of a run.
    lock_path = tmp_path_factory.getbasetemp().parent / "redis-server.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _service_baseline(
    request: pytest.FixtureRequest, settings, _redis_server_turn
) -> Iterator[None]:
    """Cheap hashing, the built-in roles and plans, and an empty cache for every
    database test (a transactional test empties the tables the migrations filled).

    In-process tests push message-log entries from the calling thread: a relay
    thread would write on a database connection outside the test's transaction.
    The relay's own tests, and every live test (gunicorn, default settings), run it.
    """
    settings.BCRYPT_ROUNDS = 4
    settings.MESSAGE_RELAY_GATHER_MS = 0
    # A Redis stall in one test skips Redis for that request only, not for the tests after it.
    settings.CACHE_OUTAGE_BACKOFF_SECONDS = 0
    database_fixture = _database_fixture_for(request)
    if database_fixture is not None:
        request.getfixturevalue(database_fixture)
        from accounts.authz.roles import ensure_builtin_roles
        from accounts.models import Role
        from core.tests.cache import clear_cache
        from credits.models import Plan
        from credits.plans import ensure_builtin_plans

        ensure_builtin_roles(Role)
        ensure_builtin_plans(Plan)
        clear_cache()
    # Celery's "inside a task" flag is process-wide: eager tasks run by a test's
    # concurrent requests can leave it set, and then `.get()` on an eager result fails.
    with allow_join_result():
        yield


@pytest.fixture
def migrate_to(transactional_db):
    """Migrate the test database to the given nodes and return the models as they
    stood there; every app's latest migration is applied again afterwards, whatever
    the test did, so no later test meets an old schema."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def migrate(targets: list[tuple[str, str]], *, state_of=None):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(state_of or targets).apps

    yield migrate
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def send_mail_now(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (the email tasks) as a committing request would."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory()


# ----- a real gunicorn on loopback -------------------------------------------------


@dataclass(frozen=True)
class LiveService:
    url: str
    log_path: Path
    pid: int  # gunicorn's master; its workers are its children

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for(settings_dict: dict) -> str:
    """The URL of the database the tests use, for a child process."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{password}@" if password else f"{user}@"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


def _start_service(tmp_path_factory, extra_env: dict[str, str]) -> Iterator[LiveService]:
    from django.db import connection

    port = _free_port()
    log_path = tmp_path_factory.mktemp("gunicorn") / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "BCRYPT_ROUNDS": "4",
        "DEBUG": "false",
        "ENVIRONMENT": "development",
        # As in-process: a Redis stall (another test process's CLIENT PAUSE) skips Redis
        # for that request only, not for the tests after it.
        "CACHE_OUTAGE_BACKOFF_SECONDS": "0",
        **extra_env,
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "8",
        "--timeout",
        "60",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health/live", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gunicorn did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    try:
        yield LiveService(url=url, log_path=log_path, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def live_service(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[LiveService]:
    """The service under gunicorn (2 workers) on the test database and cache."""
    yield from _start_service(tmp_path_factory, {})


@pytest.fixture(scope="session")
def live_service_unmetered(
    django_db_setup, django_db_blocker, tmp_path_factory
) -> Iterator[LiveService]:
    """The same, with rate limits and the firewall off, for load from one address."""
    yield from _start_service(
        tmp_path_factory, {"RATELIMIT_ENABLE": "false", "FIREWALL_ENABLED": "false"}
    )


@pytest.fixture
def start_live_service(django_db_setup, tmp_path_factory):
    """`with start_live_service({...}) as service:` a gunicorn of the test's own, with
    extra settings; leaving the block stops it gracefully (SIGTERM) and waits."""
    return lambda extra_env: contextmanager(_start_service)(tmp_path_factory, extra_env)


@dataclass(frozen=True)
class LiveWorker:
    log_path: Path


@pytest.fixture(scope="session")
def live_service_with_worker(
    django_db_setup, django_db_blocker, tmp_path_factory
) -> Iterator[tuple[LiveService, LiveWorker]]:
    """gunicorn plus a real Celery worker, sharing Redis as cache and broker.

    Batches of 5 conversations, so a few requests show the worker flushing.
    """
    from django.conf import settings
    from django.db import connection

    if not settings.REDIS_URL:
        pytest.skip("the broker and the message queue need Redis: run with REDIS_URL (CI does)")
    pipeline_env = {
        "CELERY_BROKER_URL": settings.REDIS_URL,
        "CACHE_OUTAGE_BACKOFF_SECONDS": "0",
        "MESSAGE_BATCH_SIZE": "5",
        "RATELIMIT_ENABLE": "false",
        "FIREWALL_ENABLED": "false",
    }
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "DEBUG": "false",
        **pipeline_env,
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    with log_path.open("w") as log:
        worker = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=log)
    try:
        for service in _start_service(tmp_path_factory, pipeline_env):
            yield service, LiveWorker(log_path=log_path)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
