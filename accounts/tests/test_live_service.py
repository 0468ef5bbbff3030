"""The service as a client meets it: gunicorn with two workers on loopback."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from accounts.models import LoginSession

pytestmark = pytest.mark.live

PASSWORD = "SecurePass123"


def _register_and_login(client, username: str) -> dict:
    registered = client.post(
        "/api/v1/auth/register",
        json={"email": f"{username}@example.com", "username": username, "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    response = client.post("/api/v1/auth/login", json={"email": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


def test_walkthrough_register_login_me_refresh_logout(live_service, transactional_db):
    with live_service.client() as client:
        tokens = _register_and_login(client, "walker")
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}

        me = client.get("/api/v1/users/me", headers=auth)
        refreshed = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        new_auth = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        logout = client.post("/api/v1/auth/logout", headers=new_auth)
        after = [client.get("/api/v1/users/me", headers=new_auth) for _ in range(6)]

    assert me.status_code == 200 and me.json()["username"] == "walker"
    assert refreshed.status_code == 200
    assert logout.status_code == 200
    # Six calls spread over both workers: every one refuses the revoked session.
    assert [r.status_code for r in after] == [401] * 6
    assert all(r.json()["error_code"] == "SESSION_REVOKED" for r in after)


def test_logging_out_stops_the_session_in_every_warm_worker(live_service, transactional_db):
    """Both workers hold the session and user in their cache copies; logout reaches both."""
    with live_service.client() as client:
        tokens = _register_and_login(client, "warmleaver")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}

    def me_on_fresh_connections() -> list[int]:
        statuses = []
        for _ in range(8):  # new connections, so both workers answer some
            with live_service.client() as client:
                statuses.append(client.get("/api/v1/users/me", headers=auth).status_code)
        return statuses

    warm = me_on_fresh_connections()
    with live_service.client() as client:
        logout = client.post("/api/v1/auth/logout", headers=auth)
    after = me_on_fresh_connections()

    assert warm == [200] * 8
    assert logout.status_code == 200
    assert after == [401] * 8


def test_parallel_refreshes_with_one_token_give_exactly_one_success(live_service, transactional_db):
    with live_service.client() as client:
        tokens = _register_and_login(client, "racer")
    parallel = 10
    barrier = Barrier(parallel)

    def refresh(_: int) -> int:
        with live_service.client() as client:
            barrier.wait(timeout=10)
            return client.post(
                "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
            ).status_code

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        statuses = list(pool.map(refresh, range(parallel)))

    assert statuses.count(200) == 1, statuses
    assert statuses.count(401) == parallel - 1, statuses
    session = LoginSession.objects.get(pk=tokens["session_id"])
    assert session.revoked_reason == LoginSession.RevokeReason.REFRESH_REUSE


def test_live_errors_are_json_envelopes(live_service, transactional_db):
    with live_service.client() as client:
        not_found = client.get("/api/v1/missing")
        bad_json = client.post(
            "/api/v1/auth/login",
            content=b'{"email": ',
            headers={"Content-Type": "application/json"},
        )
        too_big = client.post(
            "/api/v1/auth/register",
            content=b"x" * (10 * 1024 * 1024),
            headers={"Content-Type": "application/json"},
        )

    assert (not_found.status_code, not_found.json()["success"]) == (404, False)
    assert (bad_json.status_code, bad_json.json()["error_code"]) == (400, "PARSE_ERROR")
    assert (too_big.status_code, too_big.json()["error_code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert not_found.headers["X-Request-ID"] == not_found.json()["details"]["request_id"]
