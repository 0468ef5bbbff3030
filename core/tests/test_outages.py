"""Dependency outages against a real gunicorn: 503 in the envelope, never a 500, and
a Redis that stops answering costs a request at most one socket timeout."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"
# settings.CACHES' SOCKET_TIMEOUT: the longest one Redis call may wait.
REDIS_SOCKET_TIMEOUT = 2.0


def _closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _assert_envelope(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error_code"] == code, body
    assert body["details"]["request_id"] == response.headers["X-Request-ID"]


def test_a_database_that_refuses_connections_is_503_database_unavailable(start_live_service):
    dead = f"postgres://postgres@127.0.0.1:{_closed_port()}/nothing"
    with start_live_service({"DATABASE_URL": dead}) as service, service.client() as client:
        login = client.post(LOGIN, json={"email": "someone@example.com", "password": "x" * 12})
        me = client.get(ME, headers={"Authorization": "Bearer not.a.token"})
        ready = client.get("/api/v1/health/ready")
        options = client.options(ME, headers={"Authorization": "Bearer a.b.c"})

    _assert_envelope(login, 503, "DATABASE_UNAVAILABLE")
    assert me.status_code in (401, 503), me.text
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] != "ok"
    assert options.status_code in (200, 401, 503), options.text
    assert options.status_code != 500


@contextmanager
def _silent_redis() -> Iterator[str]:
    """A TCP server on loopback that accepts every connection and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in accepted:
            connection.close()
        server.close()


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.parametrize("backoff", ["0", "5"], ids=["within-a-request", "with-process-backoff"])
def test_a_redis_that_never_answers_costs_a_request_one_socket_timeout(start_live_service, backoff):
    """Without the process-wide back-off each request meets the timeout once; with
    it, the requests after the first one skip Redis at once."""
    user = UserFactory(username="patient", email="patient@example.com")
    slack = 1.5
    extra = {"CACHE_OUTAGE_BACKOFF_SECONDS": backoff}
    with (
        _silent_redis() as url,
        start_live_service({"REDIS_URL": url, **extra}) as service,
        service.client() as client,
    ):
        login, login_seconds = _timed(
            lambda: client.post(LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD})
        )
        token = login.json().get("access_token") if login.status_code == 200 else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        me, me_seconds = _timed(lambda: client.get(ME, headers=headers))

    assert login.status_code in (200, 503), login.text
    if login.status_code == 503:
        assert login.json()["error_code"] == "CACHE_UNAVAILABLE"
    assert login_seconds < REDIS_SOCKET_TIMEOUT + slack, login_seconds
    if token:
        assert me.status_code == 200, me.text
        assert me.json()["email"] == user.email
        assert me_seconds < REDIS_SOCKET_TIMEOUT + slack, me_seconds
        if backoff != "0":
            assert me_seconds < 1, me_seconds
