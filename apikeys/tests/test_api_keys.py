import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.auth.request_cache import forget_changed_user, user_cache_key
from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import ME_URL, assert_envelope, bearer, login
from accounts.tests.world import build_world
from apikeys.models import APIKey
from apikeys.services import apikey_create, apikey_regenerate_primary, digest_of
from security.models import AuditLog, SecurityEvent

COMPLETIONS = "/v1/prompt/completions"
PROMPT = {"level": "medium", "messages": [{"role": "user", "content": "Hello"}], "r_type": "bpe"}
KEY_FORMAT = re.compile(r"^pe-[A-Za-z0-9_-]{32}$")


def use_key(api_client, key: str, **extra):
    return api_client.post(
        COMPLETIONS, PROMPT, format="json", HTTP_AUTHORIZATION=f"Bearer {key}", **extra
    )


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def key(owner):
    return apikey_regenerate_primary(user=owner).clear


def test_registration_gives_a_primary_key_stored_only_as_digest(api_client, db):
    body = api_client.post(
        "/v1/users/register",
        {
            "username": "keyed",
            "name": "Keyed User",
            "email": "k@example.com",
            "password": "SecurePass123",
        },
        format="json",
    ).json()

    clear = body["api_key"]
    stored = APIKey.objects.get(user__username="keyed")
    assert KEY_FORMAT.match(clear)
    assert stored.digest == digest_of(clear)
    assert clear not in str(list(APIKey.objects.values()))
    assert use_key(api_client, clear).status_code == 200


def test_without_a_live_primary_key_the_answer_says_how_to_get_one(api_client, owner, key):
    auth = bearer(login(api_client, owner.email)["access_token"])
    api_client.delete(f"/api/v1/api-keys/{APIKey.objects.get(user=owner).pk}", **auth)

    body = api_client.get("/v1/users/api-key", **auth).json()

    assert body["api_key"] is None
    assert "/v1/users/api-key/regenerate" in body["note"]


def test_get_api_key_answers_it_masked_only(api_client, owner, key):
    auth = bearer(login(api_client, owner.email)["access_token"])

    body = api_client.get("/v1/users/api-key", **auth).json()

    assert body["api_key"] == f"pe-{key[3:7]}…{key[-4:]}"
    assert key not in str(body)
    assert "cannot be shown again" in body["note"]


def test_regenerate_kills_the_old_key_at_once(api_client, owner, key):
    auth = bearer(login(api_client, owner.email)["access_token"])
    assert use_key(api_client, key).status_code == 200

    new = api_client.post("/v1/users/api-key/regenerate", **auth).json()["api_key"]

    assert_envelope(use_key(api_client, key), 401)
    assert use_key(api_client, new).status_code == 200
    assert AuditLog.objects.filter(action="api_key.regenerate").exists()


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


def test_rest_resource_create_list_revoke_rotate(api_client, owner):
    auth = bearer(login(api_client, owner.email)["access_token"])

    created = api_client.post(
        "/api/v1/api-keys",
        {"name": "production", "expires_in": "30d", "scopes": ["read", "write"]},
        format="json",
        **auth,
    ).json()
    listed = api_client.get("/api/v1/api-keys", **auth).json()["results"]
    rotated = api_client.post(f"/api/v1/api-keys/{created['id']}/rotate", **auth).json()
    revoked = api_client.delete(f"/api/v1/api-keys/{rotated['id']}", **auth).json()

    assert KEY_FORMAT.match(created["api_key"])
    assert abs(
        timezone.datetime.fromisoformat(created["expires_at"].replace("Z", "+00:00"))
        - (timezone.now() + timedelta(days=30))
    ) < timedelta(minutes=1)
    assert [row["name"] for row in listed] == ["production"]
    assert "api_key" not in listed[0]
    assert_envelope(use_key(api_client, created["api_key"]), 401)
    assert revoked["active"] is False
    assert_envelope(use_key(api_client, rotated["api_key"]), 401)


@pytest.mark.parametrize(
    ("expires_in", "code"),
    [
        ("30x", "INVALID_EXPIRY"),
        ("2000-01-01", "INVALID_EXPIRY"),
        ("tomorrow", "INVALID_EXPIRY"),
        ("2030-02-30", "INVALID_EXPIRY"),
        ("2030-01-01T25:00:00", "INVALID_EXPIRY"),
        ("0d", "INVALID_EXPIRY"),
        ("0m", "INVALID_EXPIRY"),
        ("99999d", "INVALID_EXPIRY"),
        ("9999-12-31T23:59:59-05:00", "INVALID_EXPIRY"),  # the year 10000 in UTC
    ],
)
def test_bad_expiry_is_400(api_client, owner, expires_in, code):
    auth = bearer(login(api_client, owner.email)["access_token"])

    response = api_client.post(
        "/api/v1/api-keys", {"name": "x", "expires_in": expires_in}, format="json", **auth
    )

    assert_envelope(response, 400, code)
    assert not APIKey.objects.filter(name="x").exists()


def test_an_expiry_with_an_offset_is_kept_as_that_moment(api_client, owner):
    auth = bearer(login(api_client, owner.email)["access_token"])

    created = api_client.post(
        "/api/v1/api-keys",
        {"name": "far", "expires_in": "2099-12-31T23:00:00-05:00"},
        format="json",
        **auth,
    )
    listed = api_client.get("/api/v1/api-keys", **auth)

    assert created.status_code == 201
    assert created.json()["expires_at"] == "2100-01-01T04:00:00Z"
    assert listed.status_code == 200


def test_scopes_left_out_mean_read_and_write_but_an_empty_list_is_refused(api_client, owner):
    auth = bearer(login(api_client, owner.email)["access_token"])

    default = api_client.post("/api/v1/api-keys", {"name": "default"}, format="json", **auth)
    empty = api_client.post(
        "/api/v1/api-keys", {"name": "empty", "scopes": []}, format="json", **auth
    )

    assert default.status_code == 201
    assert default.json()["scopes"] == ["read", "write"]
    assert_envelope(empty, 400, "INVALID_SCOPE")
    assert not APIKey.objects.filter(name="empty").exists()


def test_expired_key_is_401(api_client, owner):
    issued = apikey_create(user=owner, name="short", expires_in="12h")

    with time_machine.travel(timezone.now() + timedelta(hours=13)):
        assert_envelope(use_key(api_client, issued.clear), 401)


def test_scopes_are_enforced_and_never_exceed_the_owner(api_client, db):
    owner = UserFactory()
    narrow = apikey_create(user=owner, name="narrow", scopes=["write:models"]).clear
    guest_role = Role.objects.create(name="no_models", permissions=["read:self"])
    powerless = UserFactory(role=guest_role)
    full = apikey_create(user=powerless, name="full", scopes=["read", "write"]).clear

    assert_envelope(use_key(api_client, narrow), 403)
    assert_envelope(use_key(api_client, full), 403)


def test_keys_do_not_open_account_management(api_client, key):
    assert_envelope(
        api_client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {key}"), 401, "API_KEY_NOT_ACCEPTED"
    )
    assert_envelope(api_client.get("/v1/users/api-key", HTTP_X_API_KEY=key), 401)
    response = api_client.post(
        "/api/v1/api-keys", {"name": "escalate"}, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert_envelope(response, 401, "API_KEY_NOT_ACCEPTED")
    assert APIKey.objects.filter(name="escalate").count() == 0


def test_a_key_sent_beside_a_session_token_leaves_the_session_in_charge(api_client, owner, key):
    token = login(api_client, owner.email)["access_token"]
    response = api_client.get(ME_URL, HTTP_X_API_KEY=key, **bearer(token))

    assert response.status_code == 200
    assert response.json()["id"] == owner.pk


def test_owner_suspension_and_tenant_deactivation_stop_keys_at_once(api_client, db):
    world = build_world()
    member_key = apikey_regenerate_primary(user=world.member).clear
    other_key = apikey_regenerate_primary(user=world.other_member).clear
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


def test_staff_can_revoke_a_members_key(api_client, db):
    world = build_world()
    issued = apikey_create(user=world.member, name="member key")

    other = api_client.delete(f"/api/v1/api-keys/{issued.key.pk}", **world.auth("other_admin"))
    response = api_client.delete(f"/api/v1/api-keys/{issued.key.pk}", **world.auth("tenant_admin"))

    assert_envelope(other, 404)
    assert response.status_code == 200
    assert_envelope(use_key(api_client, issued.clear), 401)
    assert AuditLog.objects.filter(action="api_key.revoke", actor_label="admin_a").exists()


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


def test_a_key_rotates_once_and_an_expired_key_not_at_all(api_client, owner):
    auth = bearer(login(api_client, owner.email)["access_token"])
    live = apikey_create(user=owner, name="live").key
    brief = apikey_create(user=owner, name="brief", expires_in="1h").key

    first = api_client.post(f"/api/v1/api-keys/{live.pk}/rotate", **auth)
    again = api_client.post(f"/api/v1/api-keys/{live.pk}/rotate", **auth)
    APIKey.objects.filter(pk=brief.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = api_client.post(f"/api/v1/api-keys/{brief.pk}/rotate", **auth)

    assert first.status_code == 200
    assert_envelope(again, 404)
    assert_envelope(expired, 409, "API_KEY_EXPIRED")
    assert APIKey.objects.usable().filter(user=owner, name="live").count() == 1


def test_simultaneous_regenerations_leave_one_live_primary(transactional_db):
    owner = UserFactory()
    apikey_regenerate_primary(user=owner)

    def regenerate(_: int) -> str:
        try:
            return apikey_regenerate_primary(user=owner).clear
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        issued = list(pool.map(regenerate, range(4)))

    live = APIKey.objects.usable().filter(user=owner, is_primary=True)
    assert len(set(issued)) == 4
    assert live.count() == 1
    assert live.get().digest in {digest_of(clear) for clear in issued}


def test_a_key_can_do_no_more_than_its_scopes_outside_the_models_too(api_client, owner):
    models_only = apikey_create(user=owner, name="models", scopes=["write:models"]).clear
    every_read = apikey_create(user=owner, name="reads", scopes=["read:*"]).clear
    credits_url = "/api/v1/users/me/credits"

    refused = api_client.get(credits_url, HTTP_AUTHORIZATION=f"Bearer {models_only}")
    allowed = api_client.get(credits_url, HTTP_AUTHORIZATION=f"Bearer {every_read}")

    assert_envelope(refused, 403)
    assert allowed.status_code == 200
    assert use_key(api_client, every_read).status_code == 200


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
