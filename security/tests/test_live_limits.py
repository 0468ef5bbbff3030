"""Limits and lockouts hold across the two gunicorn worker processes."""

import pytest

pytestmark = pytest.mark.live


def test_request_budget_is_shared_by_both_processes(live_service, transactional_db):
    # New connections spread the requests over both workers.
    statuses = []
    for _ in range(62):
        with live_service.client() as client:
            statuses.append(client.get("/api/v1/users/me").status_code)

    assert statuses.count(401) == 60
    assert statuses[-2:] == [429, 429]


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
