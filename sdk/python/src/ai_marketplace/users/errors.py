"""Typed exceptions for the service's error envelope.

Every error the service answers has the body
`{"success": false, "message", "errors": [...], "error_code", "details": {...}}`;
`error_for` turns a response into the exception of its status (and, for a few
codes such as `CREDITS_EXHAUSTED` or `API_KEY_SCOPE_MISSING`, of its `error_code`),
so callers catch what they mean rather than parse bodies.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import httpx

CREDITS_EXHAUSTED_CODE = "CREDITS_EXHAUSTED"
KEY_NOT_ACCEPTED_CODE = "API_KEY_NOT_ACCEPTED"
SCOPE_MISSING_CODE = "API_KEY_SCOPE_MISSING"


class UserClientError(Exception):
    """Base of everything this package raises."""


class UnsupportedOperation(UserClientError):
    """The service has no endpoint for this call as asked (for example, issuing an API
    key for a user other than the client's own account: keys are minted by their
    owner, or replacing another user's whole preferences document)."""


class ConnectionFailed(UserClientError):
    """The service could not be reached (after the retries allowed for the method)."""


class APIError(UserClientError):
    """An error answer of the service.

    `status` is the HTTP status, `code` the stable `error_code` to switch on,
    `message` the sentence for people, `errors` the list of problems, and `details`
    the envelope's `details` (request id and time). `body` keeps the whole envelope,
    extra fields (such as `limits` or `locked_until`) included.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        errors: list[str] | None = None,
        body: dict[str, Any] | None = None,
        headers: httpx.Headers | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.errors = errors if errors is not None else [message]
        self.body = body or {}
        self.headers = headers if headers is not None else httpx.Headers()

    @property
    def request_id(self) -> str | None:
        """The id the service logged the request under (quote it to support)."""
        return self.details.get("request_id")


class ValidationError(APIError):
    """400: a field is missing or invalid; `errors` names each problem."""


class AuthenticationError(APIError):
    """401: no credentials, wrong credentials, or a token or key no longer valid."""


class KeyNotAccepted(AuthenticationError):
    """401 `API_KEY_NOT_ACCEPTED`: this operation takes a login session, never an API key.

    Keys open the metered API, the balance, the caller's account and (with
    management scopes) users and roles. They never mint, list or revoke keys, nor
    change passwords, email, MFA or sessions, nor delete accounts or roles, so a
    stolen key cannot lock its owner out or outlive its revocation. Log in as the
    account (`UserClient.login(email=..., password=...)`) and call this there."""

    HINT = (
        "This operation needs a login session, not an API key: use "
        "UserClient.login(email=..., password=...) as the account and call it there."
    )

    def __str__(self) -> str:
        return f"{super().__str__()} {self.HINT}"


class MfaRequired(AuthenticationError):
    """The password was right and the account has MFA: log in again with `mfa_code`."""

    def __init__(self, mfa_token: str, expires_in: int | None = None) -> None:
        super().__init__(
            401, "MFA_REQUIRED", "This account needs a TOTP or recovery code to log in."
        )
        self.mfa_token = mfa_token
        self.expires_in = expires_in


class PermissionDenied(APIError):
    """403: the caller may not do this."""


class ScopeMissing(PermissionDenied):
    """403 `API_KEY_SCOPE_MISSING`: the API key's scopes do not name the permission this
    operation needs (the message names it). Management needs a key made with the exact
    scopes `read:users`, `write:users` or `manage:roles`: `read`, `write` and wildcards
    such as `write:*` never grant them."""


class NotFound(APIError):
    """404: unknown, or not visible to the caller (another tenant's objects are 404)."""


class Conflict(APIError):
    """409: the resource exists already, or the change conflicts with its state."""


class Locked(APIError):
    """423: the account is locked after too many failed logins or wrong passwords.

    `retry_after` is in seconds (from `Retry-After`, else from `locked_until`)."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after
        locked_until = self.body.get("locked_until")
        self.locked_until = _parse_moment(locked_until) if isinstance(locked_until, str) else None
        if self.retry_after is None and self.locked_until is not None:
            remaining = (self.locked_until - datetime.now(timezone.utc)).total_seconds()
            self.retry_after = max(0.0, remaining)


class RateLimited(APIError):
    """429: a request budget or endpoint limit; `retry_after` seconds from `Retry-After`."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class CreditsExhausted(RateLimited):
    """429 `CREDITS_EXHAUSTED`: no conversation credits left until the daily reset.

    `limits` is the balance the service sent; `retry_after` is when the reset comes.
    Never retried automatically: the wait is usually hours."""

    @property
    def limits(self) -> dict[str, Any]:
        return self.body.get("limits") or {}


class ServiceUnavailable(APIError):
    """503: a dependency of the service is down; nothing was changed, retry later."""


class ServerError(APIError):
    """Any other 5xx answer."""


# Codes with an exception of their own, beneath the class of their status.
_BY_CODE: dict[tuple[int, str], type[APIError]] = {
    (401, KEY_NOT_ACCEPTED_CODE): KeyNotAccepted,
    (403, SCOPE_MISSING_CODE): ScopeMissing,
    (429, CREDITS_EXHAUSTED_CODE): CreditsExhausted,
}

_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    423: Locked,
    429: RateLimited,
    503: ServiceUnavailable,
}


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """`Retry-After` as seconds: a number of seconds or an HTTP date; None without one."""
    value = headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def error_for(response: httpx.Response) -> APIError:
    """The exception for an error response, the envelope's fields unpacked."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or response.reason_phrase or "Request failed.")
    code = str(body.get("error_code") or _default_code(response.status_code))
    errors = body.get("errors")
    if not isinstance(errors, list):
        errors = [message]
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    kind = _BY_CODE.get((response.status_code, code)) or _BY_STATUS.get(response.status_code)
    if kind is None:
        kind = ServerError if response.status_code >= 500 else APIError
    arguments: dict[str, Any] = {
        "errors": [str(error) for error in errors],
        "body": body,
        "headers": response.headers,
    }
    if issubclass(kind, RateLimited | Locked):
        arguments["retry_after"] = retry_after_seconds(response.headers)
    return kind(response.status_code, code, message, details, **arguments)


def _default_code(status: int) -> str:
    return {503: "SERVICE_UNAVAILABLE", 429: "RATE_LIMITED", 404: "NOT_FOUND"}.get(status, "ERROR")


def _parse_moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
