"""Per-endpoint rate limits on django-ratelimit, with a chosen answer to cache outages.

`django-ratelimit` counts in the shared cache. When the cache cannot count, each
limit decides: fail open (let the request through; lockout and the database still
protect it) or fail closed (503). Keys read JSON bodies through DRF's parsed
data, since the library's `post:` keys only see form posts.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

import structlog
from django.conf import settings
from django_ratelimit.core import get_usage

from core.errors import ServiceUnavailable, TooManyRequests
from security.client_ip import client_ip, ip_limit_key
from security.errors import SecurityErrorCode
from security.models import SecurityEvent, Severity
from security.services.events import security_event_record

logger = structlog.get_logger(__name__)

KeyFunction = Callable[[str, object], str]


def ip_key(group: str, request) -> str:
    return ip_limit_key(client_ip(request))


def identifier_key(group: str, request) -> str:
    """The account named in a login body (JSON, or the form of the OAuth sign-in
    page: email or username), any case."""
    data = request.data if hasattr(request, "data") else request.POST
    value = ""
    if isinstance(data, dict):
        value = str(data.get("email") or data.get("username") or "")
    return value.strip().lower() or ip_limit_key(client_ip(request))


def user_or_ip_key(group: str, request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{ip_limit_key(client_ip(request))}"


@dataclass(frozen=True)
class Limit:
    group: str
    rate_setting: str
    key: KeyFunction
    fail_open: bool

    @property
    def rate(self) -> str:
        return getattr(settings, self.rate_setting)


def _cache_failed(usage: dict) -> bool:
    # With RATELIMIT_FAIL_OPEN=False the library reports a failed count this way.
    return usage["limit"] == 0 and usage["time_left"] == -1


def enforce(request, limit: Limit) -> None:
    """Count this request against a limit; raise 429 (or 503) when it must stop."""
    usage = get_usage(request, group=limit.group, key=limit.key, rate=limit.rate, increment=True)
    if usage is None:
        return
    if _cache_failed(usage):
        logger.warning("rate_limit_unavailable", group=limit.group, fail_open=limit.fail_open)
        if limit.fail_open:
            return
        raise ServiceUnavailable(
            "Rate limiting is unavailable; try again shortly.",
            code=SecurityErrorCode.RATE_LIMITER_UNAVAILABLE,
        )
    if usage["should_limit"]:
        retry_after = max(1, usage["time_left"])
        security_event_record(
            kind=SecurityEvent.Kind.RATE_LIMITED,
            severity=Severity.WARNING,
            details={"limit": limit.group, "rate": limit.rate},
        )
        raise TooManyRequests(
            f"Too many requests: the limit is {limit.rate}. Retry in {retry_after} s.",
            extra={"retry_after_seconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


def rate_limited(*limits: Limit):
    """Decorate a DRF view method so every limit is counted before it runs."""

    def decorator(method):
        @wraps(method)
        def wrapper(view, request, *args, **kwargs):
            for limit in limits:
                enforce(request, limit)
            return method(view, request, *args, **kwargs)

        return wrapper

    return decorator


LOGIN_PER_IP = Limit("login-ip", "RATELIMIT_LOGIN", ip_key, fail_open=True)
LOGIN_PER_ACCOUNT = Limit(
    "login-account", "RATELIMIT_LOGIN_ACCOUNT", identifier_key, fail_open=True
)
REGISTER_PER_IP = Limit("register-ip", "RATELIMIT_REGISTER", ip_key, fail_open=False)
REFRESH_PER_IP = Limit("refresh-ip", "RATELIMIT_REFRESH", ip_key, fail_open=True)
PASSWORD_CHANGE_PER_USER = Limit(
    "password-change", "RATELIMIT_PASSWORD_CHANGE", user_or_ip_key, fail_open=False
)
# Every password check of a logged-in user; the lockout protects it when the cache is out.
PASSWORD_CONFIRM_PER_USER = Limit(
    "password-confirm", "RATELIMIT_PASSWORD_CONFIRM", user_or_ip_key, fail_open=True
)
PASSWORD_RESET_PER_IP = Limit("password-reset", "RATELIMIT_PASSWORD_RESET", ip_key, fail_open=False)
MFA_PER_USER = Limit("mfa", "RATELIMIT_MFA", user_or_ip_key, fail_open=False)
API_KEY_CREATE_PER_USER = Limit(
    "api-key-create", "RATELIMIT_API_KEY_CREATE", user_or_ip_key, fail_open=True
)
# Each upload decodes an image; the cache being out is no reason to refuse a profile picture.
AVATAR_UPLOAD_PER_USER = Limit(
    "avatar-upload", "RATELIMIT_AVATAR_UPLOAD", user_or_ip_key, fail_open=True
)
# The firewall's per-IP request budget (FIREWALL_RATE_LIMIT), counted by FirewallMiddleware.
REQUEST_BUDGET = Limit("firewall", "FIREWALL_RATE_LIMIT", ip_key, fail_open=True)
