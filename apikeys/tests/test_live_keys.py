"""A key stops working in every process the moment it should.

The service runs under gunicorn with two worker processes; the change is made
through its HTTP API (or, for expiry, by the clock), and every later request on a
fresh connection, whichever worker takes it, is refused.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.world import build_world
from apikeys.services import apikey_create, apikey_regenerate_primary

pytestmark = pytest.mark.live

COMPLETIONS = "/v1/prompt/completions"
PROMPT = {"messages": [{"role": "user", "content": "Hello"}]}
CALLS = 6  # fresh connections, so both workers answer some


def statuses(service, key: str, calls: int = CALLS) -> list[int]:
    """One metered call per new connection with this key."""
    answers = []
    for _ in range(calls):
        with service.client() as client:
            answers.append(
                client.post(
                    COMPLETIONS, json=PROMPT, headers={"Authorization": f"Bearer {key}"}
                ).status_code
            )
    return answers


def headers_of(auth: dict) -> dict:
    return {"Authorization": auth["HTTP_AUTHORIZATION"]}


def own_headers(user) -> dict:
    """A login session of the user themself."""
    pair = session_start(user=user, client=ClientInfo("127.0.0.1", "tests"))
    return {"Authorization": f"Bearer {pair.access}"}


@pytest.fixture
def world(transactional_db):
    return build_world()


def test_revoking_through_the_api_stops_the_key_in_every_worker(live_service_unmetered, world):
    issued = apikey_create(user=world.member, name="revoked live", actor=world.member)
    warm = statuses(live_service_unmetered, issued.clear)

    with live_service_unmetered.client() as client:
        revoke = client.delete(
            f"/api/v1/api-keys/{issued.key.pk}", headers=headers_of(world.auth("tenant_admin"))
        )

    assert warm == [200] * CALLS
    assert revoke.status_code == 200
    assert statuses(live_service_unmetered, issued.clear) == [401] * CALLS


def test_suspending_the_owner_stops_the_key_in_every_worker(live_service_unmetered, world):
    key = apikey_regenerate_primary(user=world.member, actor=world.member).clear
    warm = statuses(live_service_unmetered, key)

    with live_service_unmetered.client() as client:
        suspend = client.post(
            f"/api/v1/users/{world.member.pk}/status",
            json={"status": "suspended", "reason": "abuse"},
            headers=headers_of(world.auth("tenant_admin")),
        )

    assert warm == [200] * CALLS
    assert suspend.status_code == 200, suspend.json()
    assert statuses(live_service_unmetered, key) == [401] * CALLS


def test_deactivating_the_tenant_stops_its_keys_in_every_worker(live_service_unmetered, world):
    key = apikey_regenerate_primary(user=world.member, actor=world.member).clear
    other_tenant_key = apikey_regenerate_primary(
        user=world.other_member, actor=world.other_member
    ).clear
    warm = statuses(live_service_unmetered, key)

    with live_service_unmetered.client() as client:
        deactivate = client.delete(
            f"/api/v1/tenants/{world.tenant_a.pk}",
            headers=headers_of(world.auth("platform_admin")),
        )

    assert warm == [200] * CALLS
    assert deactivate.status_code == 200, deactivate.json()
    assert statuses(live_service_unmetered, key) == [401] * CALLS
    assert statuses(live_service_unmetered, other_tenant_key, calls=2) == [200, 200]


def test_an_expiring_key_stops_in_every_worker_when_its_time_comes(live_service_unmetered, world):
    expires_at = timezone.now() + timedelta(seconds=3)
    with live_service_unmetered.client() as client:
        created = client.post(
            "/api/v1/api-keys",
            json={"name": "brief", "expires_in": expires_at.isoformat()},
            headers=own_headers(world.member),
        )
    key = created.json()["api_key"]
    warm = statuses(live_service_unmetered, key, calls=3)

    time.sleep(max(0.0, (expires_at - timezone.now()).total_seconds()) + 0.5)

    assert created.status_code == 201, created.json()
    assert warm == [200] * 3
    assert statuses(live_service_unmetered, key) == [401] * CALLS
