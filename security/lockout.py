"""Account lockout through django-axes: counted per account, whichever name was typed.

Axes keeps the failure counts (database handler, shared by every process) under a
lockout key: `USER:<id>` when the identifier names an account (email or username,
any case, looked up as the login backend does), else the identifier itself,
normalised, so unknown names lock the same way. This module names that key, says
until when an account is locked and answers the HTML admin's lockout (the locked
accounts are listed by `security.selectors.locked_accounts`, unlocked by
`security.services.lockout.account_unlock`).

Security sits below accounts: the account behind an identifier is found by the
function LOCKOUT_ACCOUNT_LOOKUP names (the login backend's lookup), and the account
behind a key through `get_user_model()`.
"""

from datetime import datetime
from functools import cache

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string

from core.envelope import error_body
from core.errors import Locked
from core.ids import id_from_text
from security.admin_pages import is_admin_page, refusal_page

# Upper case, which a normalised (lower-cased) identifier never holds: nothing typed
# at login can name an account's counter, so an account is locked only by its names.
ACCOUNT_KEY_PREFIX = "USER:"


def normalize_identifier(identifier: str | None) -> str | None:
    value = (identifier or "").strip().lower()
    return value or None


def account_key(user) -> str:
    return f"{ACCOUNT_KEY_PREFIX}{user.pk}"


def account_id_of_key(key: str) -> int | None:
    """The account id a lockout key names, or None for an unknown identifier's key."""
    number = key.removeprefix(ACCOUNT_KEY_PREFIX)
    return id_from_text(number) if key != number else None


def account_of_key(key: str | None):
    """The account a lockout key stands for, or None for an unknown identifier."""
    account_id = account_id_of_key(key or "")
    if account_id is None:
        return None
    return get_user_model()._default_manager.filter(pk=account_id).first()


@cache
def _account_lookup(path: str):
    return import_string(path)


def account_for_identifier(identifier: str | None, *, request: HttpRequest | None = None):
    """The account an email or username names, or None.

    Given the request, the row is looked up once for it: the lockout check, the login
    backend and the lockout's success handler of one login share it.
    """
    normalized = normalize_identifier(identifier)
    if normalized is None:
        return None
    lookup = _account_lookup(settings.LOCKOUT_ACCOUNT_LOOKUP)
    if request is None:
        return lookup(normalized)
    # DRF's Request wraps the HttpRequest every handler of this request sees.
    accounts = getattr(request, "_request", request).__dict__.setdefault(
        "_accounts_by_identifier", {}
    )
    if normalized not in accounts:
        account = accounts[normalized] = lookup(normalized)
        if account is not None:
            # The success handler names the account by its username, whichever name
            # was typed: the same row, under each name the lookup resolves to it (a
            # name holding "@" is read as an email).
            email = normalize_identifier(account.email)
            if email is not None:
                accounts.setdefault(email, account)
            username = normalize_identifier(account.get_username())
            if username is not None and "@" not in username:
                accounts.setdefault(username, account)
    return accounts[normalized]


def lockout_key(identifier: str | None, *, request: HttpRequest | None = None) -> str | None:
    """Where failures of this identifier count: its account, else the identifier."""
    normalized = normalize_identifier(identifier)
    if normalized is None:
        return None
    user = account_for_identifier(normalized, request=request)
    return account_key(user) if user is not None else normalized


def lockout_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the account's key, whichever of its names was typed."""
    return lockout_key((credentials or {}).get("username"), request=request)


def recent_attempts():
    """The attempts that still count: those of the last AXES_COOLOFF_TIME, as axes
    counts them (expired rows stay until the next failed login deletes them)."""
    return AccessAttempt.objects.filter(
        attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME
    )


def _locked_until_of_key(key: str | None) -> datetime | None:
    if key is None or not settings.AXES_ENABLED:
        return None
    totals = (
        recent_attempts()
        .filter(username=key)
        .aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
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


class AccountLockoutHandler(AxesDatabaseHandler):
    """AXES_HANDLER: axes' database handler, with nothing written by a login whose
    account has no counted failures, as nearly every login has none.

    On every successful login axes deletes the expired attempts of all accounts and
    then this account's attempts, each delete a read and a transaction. An account with
    no attempt rows has nothing to reset; expired rows of other accounts are deleted
    by the next failed login, and until then nothing counts them (`recent_attempts`).
    """

    def user_logged_in(self, sender, request, user, **kwargs):
        if AccessAttempt.objects.filter(username=account_key(user)).exists():
            super().user_logged_in(sender, request, user, **kwargs)


def lockout_error_for(identifier: str) -> Locked:
    """The 423 for an identifier axes has just refused."""
    until = account_locked_until(identifier) or timezone.now() + settings.AXES_COOLOFF_TIME
    return locked_error(until)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE, used by the Django admin login: 423 with the unlock time,
    as a page of the admin's own look there, else as JSON."""
    identifier = (credentials or {}).get("username") or ""
    if is_admin_page(request):
        until = account_locked_until(identifier) or timezone.now() + settings.AXES_COOLOFF_TIME
        return refusal_page(
            request,
            status=423,
            title="Account locked",
            message="Too many failed logins: this account is locked for a while.",
            advice="Wait until then, or ask another administrator to unlock it "
            "(the Unlock action on Access attempts, or `manage.py unlock_account`).",
            until=until,
        )
    error = lockout_error_for(identifier)
    body = error_body(message=error.message, code=error.code, extra=error.extra, request=request)
    return JsonResponse(body, status=423, headers=error.headers)
