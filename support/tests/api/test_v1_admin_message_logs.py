"""GET /v1/admin-panel/message-logs/{user_id} and GET /v1/admin-panel/health."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.helpers import assert_envelope
from accounts.tests.world import build_world
from messagelog.tests.factories import MessageLogFactory
from security.models import AuditAction, AuditLog, SecurityEvent
from security.tests.helpers import audit_row

RECORD_FIELDS = {
    "id",
    "user_id",
    "username",
    "email",
    "model",
    "messages",
    "research_enabled",
    "r_type",
    "tokens_used",
    "processing_time_ms",
    "ip_address",
    "timestamp",
}


@pytest.fixture
def world(db):
    return build_world()


def url_of(user) -> str:
    return f"/v1/admin-panel/message-logs/{user.pk}"


def _log(user, minutes_ago: int, **fields):
    return MessageLogFactory(
        user_id=user.pk,
        username=user.username,
        email=user.email,
        timestamp=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def test_a_user_s_log_newest_first_in_the_documented_record_shape(api_client, world):
    older = _log(world.member, 30, model="gpt-4o", tokens_used=25, ip_address="192.168.1.100")
    newer = _log(world.member, 5, r_type="bpe", research_enabled=True)
    _log(world.other_member, 1)

    response = api_client.get(url_of(world.member), **world.auth("platform_admin"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert body["pagination"] == {"page": 1, "page_size": 50, "total": 2, "pages": 1}
    assert [row["id"] for row in body["results"]] == [str(newer.pk), str(older.pk)]
    record = body["results"][1]
    assert set(record) == RECORD_FIELDS
    assert record["user_id"] == world.member.pk
    assert record["username"] == world.member.username
    assert record["model"] == "gpt-4o"
    assert record["tokens_used"] == 25
    assert record["ip_address"] == "192.168.1.100"
    assert set(record["messages"]) == {"request", "response"}
    assert body["results"][0]["research_enabled"] is True
    assert body["results"][0]["r_type"] == "bpe"


def test_pages(api_client, world):
    rows = [_log(world.member, minutes) for minutes in range(5)]

    response = api_client.get(
        url_of(world.member) + "?page=2&page_size=2", **world.auth("platform_admin")
    )

    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == {"page": 2, "page_size": 2, "total": 5, "pages": 3}
    assert [row["id"] for row in body["results"]] == [str(rows[2].pk), str(rows[3].pk)]
    assert_envelope(
        api_client.get(url_of(world.member) + "?page=9", **world.auth("platform_admin")), 404
    )


def test_reading_a_log_is_audited_with_the_user_as_target(api_client, world):
    _log(world.member, 1)

    api_client.get(url_of(world.member), **world.auth("platform_admin"))

    row = audit_row(action=AuditAction.MESSAGE_LOG_READ, target_id=str(world.member.pk))
    assert row.actor_id == world.users["platform_admin"].pk
    assert row.target_type == "accounts.user"


def test_an_unknown_user_is_404_and_nothing_is_recorded(api_client, world):
    response = api_client.get(
        "/v1/admin-panel/message-logs/99999999", **world.auth("platform_admin")
    )

    assert_envelope(response, 404)
    assert not AuditLog.objects.filter(action=AuditAction.MESSAGE_LOG_READ).exists()


def test_a_user_without_conversations_has_an_empty_log(api_client, world):
    response = api_client.get(url_of(world.member), **world.auth("platform_admin"))

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("actor", ["user", "moderator", "tenant_admin"])
def test_only_platform_admins_read_logs(api_client, world, actor):
    _log(world.member, 1)

    response = api_client.get(url_of(world.member), **world.auth(actor))

    assert_envelope(response, 403)
    assert not AuditLog.objects.filter(action=AuditAction.MESSAGE_LOG_READ).exists()
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.PERMISSION_DENIED, user_id=world.users[actor].pk
    ).exists()


def test_anonymous_is_401(api_client, world):
    assert_envelope(api_client.get(url_of(world.member)), 401)


# ----- health ---------------------------------------------------------------------


HEALTH = "/v1/admin-panel/health"


def test_the_health_report_for_platform_admins(api_client, world):
    response = api_client.get(HEALTH, **world.auth("platform_admin"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "healthy"
    assert body["checks"]["database"]["status"] == "connected"
    assert body["checks"]["cache"]["status"] == "connected"
    assert {"broker", "database", "cache"} <= set(body["checks"])
    assert {"uptime_seconds", "runtime", "message_log", "version"} <= set(body)


def test_the_health_report_is_503_when_the_cache_does_not_keep_anything(
    api_client, world, settings
):
    headers = world.auth("platform_admin")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

    response = api_client.get(HEALTH, **headers)

    assert response.status_code == 503, response.content
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["cache"]["status"] == "disconnected"


@pytest.mark.parametrize("actor", ["user", "tenant_admin"])
def test_the_health_report_is_for_platform_admins_only(api_client, world, actor):
    assert_envelope(api_client.get(HEALTH, **world.auth(actor)), 403)
    assert_envelope(api_client.get(HEALTH), 401)
