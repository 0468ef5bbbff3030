"""Account lockout through django-axes: counted per account, whichever name was typed.

Axes keeps the failure counts (database handler, shared by every process) under a
lockout key: `USER:<id>` when the identifier names an account (email or username,
any case, looked up as the login backend does), else the identifier itself,
normalised, so unknown names lock the same way. This module names that key, says
until when an account is locked, answers the HTML admin's lockout, lists the
locked accounts for operators and unlocks on a staff member's word.
"""

from datetime import datetime

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from core.envelope import error_body
from core.errors import Locked
from security.audit import audit_record
from security.events import security_event_record
from security.models import SecurityEvent, Severity

# Upper case, which a normalised (lower-cased) identifier never holds: nothing typed
# at login can name an account's counter, so an account is locked only by its names.
ACCOUNT_KEY_PREFIX = "USER:"


def normalize_identifier(identifier: str | None) -> str | None:
    value = (identifier or "").strip().lower()
    return value or None


def account_key(user) -> str:
    return f"{ACCOUNT_KEY_PREFIX}{user.pk}"


def _account_id_of_key(key: str) -> int | None:
    number = key.removeprefix(ACCOUNT_KEY_PREFIX)
    return int(number) if key != number and number.isdigit() else None


def account_of_key(key: str | None):
    """The account a lockout key stands for, or None for an unknown identifier."""
    from accounts.models import User

    account_id = _account_id_of_key(key or "")
    return None if account_id is None else User.objects.filter(pk=account_id).first()


def lockout_key(identifier: str | None) -> str | None:
    """Where failures of this identifier count: its account, else the identifier."""
    from accounts.selectors import user_get_by_identifier

    normalized = normalize_identifier(identifier)
    if normalized is None:
        return None
    user = user_get_by_identifier(normalized)
    return account_key(user) if user is not None else normalized


def lockout_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the account's key, whichever of its names was typed."""
    return lockout_key((credentials or {}).get("username"))


def _locked_until_of_key(key: str | None) -> datetime | None:
    if key is None or not settings.AXES_ENABLED:
        return None
    totals = AccessAttempt.objects.filter(username=key).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time")
    )
    if (totals["failures"] or 0) < settings.AXES_FAILURE_LIMIT:
        return None
    until = totals["last"] + settings.AXES_COOLOFF_TIME
    return until if until > timezone.now() else None


def account_locked_until(identifier: str) -> datetime | None:
    """When the lockout of this identifier's account ends, or None if it is not locked."""
    return _locked_until_of_key(lockout_key(identifier))


def user_locked_until(user) -> datetime | None:
    """When the lockout of this account ends, or None if it is not locked."""
    return _locked_until_of_key(account_key(user))


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
    """Accounts (and unknown identifiers) locked now, named so an operator knows them.

    `identifier` is the account's username (or the unknown identifier as typed),
    which the unlock endpoint takes back; `key` is the counter's own name.
    """
    from accounts.models import User

    now = timezone.now()
    rows = list(
        AccessAttempt.objects.values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(
            failures__gte=settings.AXES_FAILURE_LIMIT, last__gt=now - settings.AXES_COOLOFF_TIME
        )
        .order_by("-last")
    )
    ids = [_account_id_of_key(row["username"]) for row in rows]
    accounts = User.objects.in_bulk([pk for pk in ids if pk is not None])
    result = []
    for row, account_id in zip(rows, ids, strict=True):
        key = row["username"]
        user = accounts.get(account_id)
        result.append(
            {
                "identifier": user.username if user else key,
                "key": key,
                "user_id": user.pk if user else None,
                "email": user.email if user else None,
                "failures": row["failures"],
                "locked_until": row["last"] + settings.AXES_COOLOFF_TIME,
            }
        )
    return result


@transaction.atomic
def account_unlock(*, identifier: str, actor) -> int:
    """Clear the failures of an account, named by email, username or lockout key, any
    case, or of an unknown identifier (staff action, audited)."""
    given = (identifier or "").strip()
    key = given if _account_id_of_key(given) is not None else lockout_key(identifier)
    if key is None:
        return 0
    user = account_of_key(key)
    cleared = axes_reset(username=key)
    audit_record(
        action="account.unlock",
        actor=actor,
        target=user,
        target_type="" if user else "lockout",
        target_id="" if user else key,
        changes={"identifier": normalize_identifier(identifier), "failures_cleared": cleared},
    )
    security_event_record(
        kind=SecurityEvent.Kind.ACCOUNT_UNLOCKED,
        severity=Severity.INFO,
        user=user,
        username=user.username if user else key,
        details={"by": getattr(actor, "username", None), "cleared": cleared},
    )
    return cleared
