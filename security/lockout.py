"""Account lockout through django-axes: counted per identifier as typed, any case.

Axes keeps the failure counts (database handler, shared by every process); this
module names the account key, says until when an account is locked, answers the
HTML admin's lockout, and unlocks on a staff member's word.
"""

from datetime import datetime

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from config.envelope import error_body
from config.errors import Locked
from security.audit import audit_record
from security.events import security_event_record
from security.models import SecurityEvent, Severity


def normalize_identifier(identifier: str | None) -> str | None:
    value = (identifier or "").strip().lower()
    return value or None


def lockout_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the identifier as typed, ignoring case and spaces."""
    return normalize_identifier((credentials or {}).get("username"))


def account_locked_until(identifier: str) -> datetime | None:
    """When the lockout of this identifier ends, or None if it is not locked."""
    username = normalize_identifier(identifier)
    if username is None or not settings.AXES_ENABLED:
        return None
    totals = AccessAttempt.objects.filter(username=username).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time")
    )
    if (totals["failures"] or 0) < settings.AXES_FAILURE_LIMIT:
        return None
    until = totals["last"] + settings.AXES_COOLOFF_TIME
    return until if until > timezone.now() else None


def locked_error(until: datetime) -> Locked:
    seconds = max(1, int((until - timezone.now()).total_seconds()))
    stamp = until.isoformat().replace("+00:00", "Z")
    return Locked(
        f"Too many failed logins: this account is locked until {stamp}.",
        extra={"locked_until": stamp, "retry_after_seconds": seconds},
        headers={"Retry-After": str(seconds)},
    )


def lockout_error_for(identifier: str) -> Locked:
    """The 423 for an identifier axes has just refused."""
    until = account_locked_until(identifier) or timezone.now() + settings.AXES_COOLOFF_TIME
    return locked_error(until)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE, used by the Django admin login: 423 with the unlock time."""
    error = lockout_error_for((credentials or {}).get("username") or "")
    body = error_body(message=error.message, code=error.code, extra=error.extra, request=request)
    return JsonResponse(body, status=423, headers=error.headers)


def locked_accounts() -> list[dict]:
    """Identifiers locked now, with their failure count and unlock time."""
    now = timezone.now()
    rows = (
        AccessAttempt.objects.values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(
            failures__gte=settings.AXES_FAILURE_LIMIT, last__gt=now - settings.AXES_COOLOFF_TIME
        )
        .order_by("-last")
    )
    return [
        {
            "identifier": row["username"],
            "failures": row["failures"],
            "locked_until": row["last"] + settings.AXES_COOLOFF_TIME,
        }
        for row in rows
    ]


@transaction.atomic
def account_unlock(*, identifier: str, actor) -> int:
    """Clear the failures of an identifier (staff action, audited)."""
    username = normalize_identifier(identifier)
    if username is None:
        return 0
    cleared = axes_reset(username=username)
    audit_record(
        action="account.unlock",
        actor=actor,
        target_type="lockout",
        target_id=username,
        changes={"failures_cleared": cleared},
    )
    security_event_record(
        kind=SecurityEvent.Kind.ACCOUNT_UNLOCKED,
        severity=Severity.INFO,
        username=username,
        details={"by": getattr(actor, "username", None), "cleared": cleared},
    )
    return cleared
