"""Security events: what went wrong or looked hostile, with a severity."""

from typing import Any

import structlog

from security.context import current_context
from security.models import SecurityEvent, Severity

logger = structlog.get_logger(__name__)

_LOG_LEVEL = {Severity.INFO: "info", Severity.WARNING: "warning", Severity.CRITICAL: "error"}


def security_event_record(
    *,
    kind: str,
    severity: str,
    user=None,
    username: str = "",
    ip_address: str | None = None,
    details: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Record an event with the request's IP, agent, path and id (never a secret)."""
    context = current_context()
    event = SecurityEvent.objects.create(
        kind=kind,
        severity=severity,
        user_id=getattr(user, "pk", None),
        username=(username or getattr(user, "username", "") or "")[:254],
        ip_address=ip_address or context.ip_address,
        user_agent=context.user_agent,
        path=context.path[:512],
        details=details or {},
        request_id=context.request_id,
    )
    getattr(logger, _LOG_LEVEL[severity])(
        "security_event", kind=kind, severity=severity, user_id=event.user_id, ip=event.ip_address
    )
    return event
