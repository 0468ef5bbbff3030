"""/api/v1/api-keys: create, list, revoke and rotate keys; expiry and scopes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.helpers import assert_envelope, bearer, login
from accounts.tests.world import build_world
from apikeys.models import APIKey
from apikeys.services import apikey_create
from apikeys.tests.helpers import KEY_FORMAT, use_key
from security.models import AuditAction
from security.tests.helpers import audit_row


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


def test_staff_can_revoke_a_members_key(api_client, db):
    world = build_world()
    issued = apikey_create(user=world.member, name="member key", actor=world.member)

    other = api_client.delete(f"/api/v1/api-keys/{issued.key.pk}", **world.auth("other_admin"))
    response = api_client.delete(f"/api/v1/api-keys/{issued.key.pk}", **world.auth("tenant_admin"))

    assert_envelope(other, 404)
    assert response.status_code == 200
    assert_envelope(use_key(api_client, issued.clear), 401)
    audit_row(action=AuditAction.API_KEY_REVOKE, actor_label="admin_a")


def test_a_key_rotates_once_and_an_expired_key_not_at_all(api_client, owner):
    auth = bearer(login(api_client, owner.email)["access_token"])
    live = apikey_create(user=owner, name="live", actor=owner).key
    brief = apikey_create(user=owner, name="brief", expires_in="1h", actor=owner).key

    first = api_client.post(f"/api/v1/api-keys/{live.pk}/rotate", **auth)
    again = api_client.post(f"/api/v1/api-keys/{live.pk}/rotate", **auth)
    APIKey.objects.filter(pk=brief.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = api_client.post(f"/api/v1/api-keys/{brief.pk}/rotate", **auth)

    assert first.status_code == 200
    assert_envelope(again, 404)
    assert_envelope(expired, 409, "API_KEY_EXPIRED")
    assert APIKey.objects.usable().filter(user=owner, name="live").count() == 1
