"""APIKeyAuthentication: which keys open which endpoints, and how fast a dead key stops."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.auth.request_cache import forget_changed_user, user_cache_key
from accounts.models import User
from accounts.tests.helpers import ME_URL, assert_envelope, bearer, login
from accounts.tests.world import build_world
from apikeys.models import APIKey
from apikeys.services import apikey_create, apikey_regenerate_primary
from apikeys.tests.helpers import COMPLETIONS, PROMPT, use_key
from security.models import SecurityEvent


def test_x_api_key_header_works(api_client, key):
    response = api_client.post(COMPLETIONS, PROMPT, format="json", HTTP_X_API_KEY=key)

    assert response.status_code == 200


@pytest.mark.parametrize("bad", ["pe-" + "x" * 32, "pe-short", "sk-" + "y" * 32])
def test_wrong_keys_are_401_and_security_events(api_client, db, bad):
    response = (
        use_key(api_client, bad)
        if bad.startswith("pe-")
        else api_client.post(COMPLETIONS, PROMPT, format="json", HTTP_X_API_KEY=bad)
    )

    assert_envelope(response, 401)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.API_KEY_MISUSE).exists()


def test_expired_key_is_401(api_client, owner):
    issued = apikey_create(user=owner, name="short", expires_in="12h", actor=owner)

    with time_machine.travel(timezone.now() + timedelta(hours=13)):
        assert_envelope(use_key(api_client, issued.clear), 401)


def test_keys_do_not_open_account_management(api_client, key):
    assert_envelope(
        api_client.patch(
            ME_URL, {"name": "Renamed"}, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"
        ),
        401,
        "API_KEY_NOT_ACCEPTED",
    )
    assert_envelope(api_client.get("/v1/users/api-key", HTTP_X_API_KEY=key), 401)
    response = api_client.post(
        "/api/v1/api-keys", {"name": "escalate"}, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert_envelope(response, 401, "API_KEY_NOT_ACCEPTED")
    assert APIKey.objects.filter(name="escalate").count() == 0


def test_a_key_sent_beside_a_session_token_leaves_the_session_in_charge(api_client, owner, key):
    token = login(api_client, owner.email)["access_token"]
    response = api_client.patch(
        ME_URL, {"name": "Renamed"}, format="json", HTTP_X_API_KEY=key, **bearer(token)
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"


def test_owner_suspension_and_tenant_deactivation_stop_keys_at_once(api_client, db):
    world = build_world()
    member_key = apikey_regenerate_primary(user=world.member, actor=world.member).clear
    other_key = apikey_regenerate_primary(user=world.other_member, actor=world.other_member).clear
    assert use_key(api_client, member_key).status_code == 200
    assert use_key(api_client, other_key).status_code == 200

    world.other_member.status = User.Status.SUSPENDED
    world.other_member.save()
    forget_changed_user(world.other_member, None)  # as every service changing a user does
    api_client.delete(f"/api/v1/tenants/{world.tenant_a.pk}", **world.auth("platform_admin"))

    assert_envelope(use_key(api_client, member_key), 401)
    assert_envelope(use_key(api_client, other_key), 401)


def test_account_deletion_revokes_keys(api_client, owner, key):
    auth = bearer(login(api_client, owner.email)["access_token"])

    api_client.delete("/api/v1/users/me", {"password": "SecurePass123"}, format="json", **auth)

    assert not APIKey.objects.usable().filter(user=owner).exists()


def test_warm_key_check_reads_no_key_row(api_client, key):
    use_key(api_client, key)

    with CaptureQueriesContext(connection) as queries:
        assert use_key(api_client, key).status_code == 200

    assert not [q for q in queries.captured_queries if 'FROM "apikeys_apikey"' in q["sql"]]


def test_last_used_is_recorded(api_client, owner, key):
    use_key(api_client, key)

    assert APIKey.objects.get(user=owner, is_primary=True).last_used_at is not None


@pytest.mark.live
def test_revocation_holds_across_processes(live_service_unmetered, transactional_db):
    with live_service_unmetered.client() as client:
        body = client.post(
            "/v1/users/register",
            json={
                "username": "multi",
                "name": "Multi Proc",
                "email": "m@example.com",
                "password": "SecurePass123",
            },
        ).json()
        key = body["api_key"]
        headers = {"Authorization": f"Bearer {key}"}
        warm = [
            client.post(COMPLETIONS, json=PROMPT, headers=headers).status_code for _ in range(4)
        ]
        access = client.post(
            "/api/v1/auth/login", json={"email": "multi", "password": "SecurePass123"}
        ).json()["access_token"]
        client.post("/v1/users/api-key/regenerate", headers={"Authorization": f"Bearer {access}"})
    after = []
    for _ in range(6):
        with live_service_unmetered.client() as client:
            after.append(client.post(COMPLETIONS, json=PROMPT, headers=headers).status_code)

    assert warm == [200] * 4
    assert after == [401] * 6


def test_a_user_cached_again_before_the_suspension_commits_is_dropped_at_commit(
    api_client, owner, key, django_capture_on_commit_callbacks
):
    assert use_key(api_client, key).status_code == 200
    stale = User.objects.get(pk=owner.pk)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        owner.status = User.Status.SUSPENDED
        owner.save()
        forget_changed_user(owner, None)  # as every service changing a user does
        # A request in another process read the row before this commit and cached it.
        cache.add(user_cache_key(owner.pk), stale, 60)

    assert_envelope(use_key(api_client, key), 401)
