"""Limits and lockouts hold across the two gunicorn worker processes."""

import time
import zlib

import httpx
import pytest

pytestmark = pytest.mark.live


def wait_for_window_with(seconds: int, *, key: str = "127.0.0.1", period: int = 60) -> None:
    """Sleep into the next rate window when the current one (django-ratelimit's fixed,
    per-key window) ends too soon for the test to fit in it.

    The library names a window by its last whole second, `end`: it holds until
    `end + 1`, so a window whose `end` is the current second is still the current one.
    """
    now = time.time()
    second = int(now)
    end = second - (second % period) + (zlib.crc32(key.encode()) % period)
    if end < second:
        end += period
    if end + 1 - now < seconds:
        time.sleep(end + 1 - now + 0.2)


def test_request_budget_is_shared_by_both_processes(live_service, transactional_db):
    # New connections spread the requests over both workers. They come from an address
    # of their own, so no other test's requests share this budget.
    address = "127.0.0.23"
    wait_for_window_with(20, key=address)
    statuses = []
    for _ in range(62):
        transport = httpx.HTTPTransport(local_address=address)
        with live_service.client(transport=transport) as client:
            statuses.append(client.get("/api/v1/users/me").status_code)

    assert statuses.count(401) == 60, statuses
    assert statuses[-2:] == [429, 429], statuses


def test_lockout_is_shared_by_both_processes(live_service, transactional_db):
    with live_service.client() as client:
        client.post(
            "/api/v1/auth/register",
            json={"email": "lock@example.com", "username": "locky", "password": "SecurePass123"},
        )
    statuses = []
    for _ in range(5):
        with live_service.client() as client:
            statuses.append(
                client.post(
                    "/api/v1/auth/login", json={"email": "locky", "password": "WrongPass999"}
                ).status_code
            )
    with live_service.client() as client:
        final = client.post(
            "/api/v1/auth/login", json={"email": "locky", "password": "SecurePass123"}
        )

    assert statuses == [401, 401, 401, 401, 423]
    assert final.status_code == 423
    assert final.json()["error_code"] == "ACCOUNT_LOCKED"
