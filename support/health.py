"""Health endpoints: /health and /api/v1/health/{,ready,live,detailed}.

Each dependency is really exercised (a query, a cache round trip); any one down
makes the answer 503 so a load balancer takes the instance out.
"""

import platform
import time
import uuid
from dataclasses import dataclass

import django
from celery import current_app as celery_app
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import cache_mirror
from messagelog.selectors import pipeline_state
from support.monitoring import MonitoringView

_STARTED = time.monotonic()


@dataclass(frozen=True)
class Check:
    ok: bool
    latency_ms: float
    error: str = ""

    @property
    def state(self) -> str:
        return "connected" if self.ok else "disconnected"

    def as_dict(self, **extra) -> dict:
        body = {"status": self.state, "latency_ms": self.latency_ms, **extra}
        if self.error:
            body["error"] = self.error
        return body


def _timed(probe) -> Check:
    started = time.perf_counter()
    try:
        ok = probe()
        error = "" if ok else "unexpected answer"
    except (DatabaseError, RedisError, OSError) as exc:
        ok, error = False, type(exc).__name__
    return Check(ok=ok, latency_ms=round((time.perf_counter() - started) * 1000, 2), error=error)


def check_database() -> Check:
    def probe() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)

    return _timed(probe)


def check_cache() -> Check:
    def probe() -> bool:
        key, nonce = f"health:{uuid.uuid4().hex}", uuid.uuid4().hex
        cache.set(key, nonce, 10)
        ok = cache.get(key) == nonce
        cache.delete(key)
        return ok

    return _timed(probe)


def check_broker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": "inline", "latency_ms": 0.0}
    started = time.perf_counter()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        state = "connected"
    except (BrokerError, OSError):
        state = "disconnected"
    return {"status": state, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def _now() -> str:
    return timezone.now().isoformat().replace("+00:00", "Z")


def _service_body(healthy: bool) -> dict:
    return {
        "status": "healthy" if healthy else "unhealthy",
        "service": settings.SERVICE_NAME,
        "version": settings.SERVICE_VERSION,
        "timestamp": _now(),
    }


_health_response = inline_serializer(
    "HealthResponse",
    fields={
        "status": serializers.ChoiceField(choices=["healthy", "unhealthy"]),
        "service": serializers.CharField(),
        "version": serializers.CharField(),
        "timestamp": serializers.DateTimeField(),
        "dependencies": serializers.DictField(child=serializers.CharField()),
    },
)


class HealthView(APIView):
    """Service health with its database and cache (503 when either is down)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(tags=["health"], responses={200: _health_response, 503: _health_response})
    def get(self, request: Request) -> Response:
        database, cache_check = check_database(), check_cache()
        healthy = database.ok and cache_check.ok
        body = {
            **_service_body(healthy),
            "dependencies": {"database": database.state, "cache": cache_check.state},
        }
        return Response(body, status=200 if healthy else 503)


class ReadinessView(HealthView):
    """Ready to take traffic: every dependency answers."""

    @extend_schema(tags=["health"], responses={200: dict, 503: dict})
    def get(self, request: Request) -> Response:
        checks = {"database": check_database(), "cache": check_cache()}
        ready = all(check.ok for check in checks.values())
        body = {
            "status": "ready" if ready else "not_ready",
            "timestamp": _now(),
            "checks": {name: check.state for name, check in checks.items()},
        }
        return Response(body, status=200 if ready else 503)


class LivenessView(HealthView):
    """The process runs and answers; touches no dependency."""

    @extend_schema(tags=["health"], responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response({"status": "alive", "timestamp": _now()})


class DetailedHealthView(MonitoringView):
    """Every dependency with its latency, plus version and uptime (support.monitoring)."""

    @extend_schema(tags=["health"], responses={200: dict, 503: dict})
    def get(self, request: Request) -> Response:
        database, cache_check = check_database(), check_cache()
        healthy = database.ok and cache_check.ok
        body = {
            **_service_body(healthy),
            "environment": settings.ENVIRONMENT,
            "uptime_seconds": round(time.monotonic() - _STARTED, 1),
            "checks": {
                "database": database.as_dict(engine=connection.vendor),
                "cache": cache_check.as_dict(
                    backend=settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
                ),
                "broker": check_broker(),
            },
            "message_log": pipeline_state(),
            "auth_cache_copies": cache_mirror.status(),
            "runtime": {"python": platform.python_version(), "django": django.get_version()},
        }
        return Response(body, status=200 if healthy else 503)
