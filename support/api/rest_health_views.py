"""Health and metrics: /health, /api/v1/health/{,ready,live,detailed} and /metrics.

Each dependency is really exercised (`support.health`); any one down makes the
answer 503 so a load balancer takes the instance out. The detailed health and the
metrics answer monitoring only (`support.api.permissions.MonitoringAccess`).
"""

import platform
import time

import django
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import cache_mirror
from messagelog.selectors import pipeline_state
from support.api.permissions import REFUSED_MESSAGE, MonitoringAccess
from support.errors import SupportErrorCode
from support.health import check_broker, check_cache, check_database

_STARTED = time.monotonic()


class MonitoringView(APIView):
    """Refused is 403, with or without credentials: there is nothing to log in for."""

    permission_classes = [MonitoringAccess]

    def permission_denied(self, request, message=None, code=None):
        raise PermissionDenied(detail=REFUSED_MESSAGE, code=SupportErrorCode.MONITORING_NOT_ALLOWED)


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

    @extend_schema(
        tags=["health"],
        summary="Service health with its database and cache",
        responses={200: _health_response, 503: _health_response},
    )
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

    @extend_schema(
        tags=["health"],
        summary="Readiness probe: every dependency answers",
        responses={200: dict, 503: dict},
    )
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

    @extend_schema(
        tags=["health"],
        summary="Liveness probe: the process answers",
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        return Response({"status": "alive", "timestamp": _now()})


def detailed_report() -> tuple[dict, bool]:
    """Every dependency with its latency, plus version and uptime; and whether the
    service is healthy (database and cache answer)."""
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
    return body, healthy


class DetailedHealthView(MonitoringView):
    """Every dependency with its latency, plus version and uptime (`MonitoringView`)."""

    @extend_schema(
        tags=["health"],
        summary="Detailed health for monitoring: each dependency, version and uptime",
        responses={200: dict, 503: dict},
    )
    def get(self, request: Request) -> Response:
        body, healthy = detailed_report()
        return Response(body, status=200 if healthy else 503)


class _AnyAccept(BaseContentNegotiation):
    """A scraper's Accept header does not matter: the metrics have one format."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class MetricsView(MonitoringView):
    content_negotiation_class = _AnyAccept

    @extend_schema(exclude=True)
    def get(self, request: Request):
        return ExportToDjangoView(request._request)
