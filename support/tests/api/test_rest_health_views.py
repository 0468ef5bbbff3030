import time

import pytest
from django.conf import settings

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


@pytest.mark.parametrize("path", ["/health", "/api/v1/health/", "/api/v1/health"])
def test_health_has_documented_shape(api_client, db, path):
    response = api_client.get(path)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "service", "version", "timestamp", "dependencies"}
    assert body["status"] == "healthy"
    assert body["service"] == "user-management"
    assert body["dependencies"] == {"database": "connected", "cache": "connected"}
    assert body["timestamp"].endswith("Z")


@pytest.mark.parametrize("ignore_exceptions", [True, False])
def test_health_is_503_when_cache_unreachable(api_client, db, settings, ignore_exceptions):
    caches = {"default": {**UNREACHABLE_REDIS["default"]}}
    caches["default"]["OPTIONS"] = {
        **caches["default"]["OPTIONS"],
        "IGNORE_EXCEPTIONS": ignore_exceptions,
    }
    settings.CACHES = caches

    response = api_client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["dependencies"] == {"database": "connected", "cache": "disconnected"}


def test_readiness_reports_checks_and_fails_without_cache(api_client, db, settings):
    assert api_client.get("/api/v1/health/ready").json()["status"] == "ready"

    settings.CACHES = UNREACHABLE_REDIS
    response = api_client.get("/api/v1/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "connected", "cache": "disconnected"}


def test_liveness_needs_no_dependency(api_client, db, settings):
    settings.CACHES = UNREACHABLE_REDIS

    response = api_client.get("/api/v1/health/live")

    assert response.status_code == 200
    assert response.json()["status"] == "alive"


def test_detailed_health_lists_dependencies_with_latency(api_client, db):
    body = api_client.get("/api/v1/health/detailed").json()

    assert body["status"] == "healthy"
    assert body["checks"]["database"]["status"] == "connected"
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert body["checks"]["cache"]["status"] == "connected"
    assert body["checks"]["broker"]["status"] in {"inline", "connected"}
    assert body["uptime_seconds"] >= 0
    assert "django" in body["runtime"]
    assert body["auth_cache_copies"]["enabled"] is bool(settings.REDIS_URL)


def test_detailed_health_says_when_this_process_answers_from_cache_copies(api_client, db):
    if not settings.REDIS_URL:
        pytest.skip("the copies are kept true by Redis: run with REDIS_URL (CI does)")
    deadline = time.monotonic() + 10
    while not api_client.get("/api/v1/health/detailed").json()["auth_cache_copies"]["live"]:
        assert time.monotonic() < deadline, "the invalidation connection never came up"
        time.sleep(0.05)


def test_metrics_exposes_prometheus_counters(client, db):
    client.get("/health")

    response = client.get("/metrics")

    assert response.status_code == 200
    text = response.content.decode()
    assert "django_http_requests_total_by_method_total" in text
    assert "django_http_responses_total_by_status_total" in text
