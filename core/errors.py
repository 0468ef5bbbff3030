"""Domain errors raised by services and rendered by one handler into the envelope.

Each error carries an HTTP status and a stable upper-case code that clients can
switch on; the message is for people.
"""

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Base of every app's error codes. The value is the wire `error_code`; each
    member also says the HTTP status it comes with and when, which is what the
    error-code table in docs/api.md is generated from (`manage.py error_codes`).

    An app declares its codes in `<app>/errors.py`:
    `USER_EXISTS = "USER_EXISTS", 409, "email or username taken"`.
    """

    status: int
    when: str

    def __new__(cls, value: str, status: int, when: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        member.when = when
        return member


class CommonErrorCode(ErrorCode):
    """Codes any endpoint can answer, raised by the kernel or by DRF itself."""

    BAD_REQUEST = "BAD_REQUEST", 400, "the request could not be processed"
    ERROR = "ERROR", 400, "a client error status that no more specific code names"
    VALIDATION_ERROR = "VALIDATION_ERROR", 400, "a field is missing or invalid"
    PARSE_ERROR = "PARSE_ERROR", 400, "malformed JSON"
    JSON_TOO_DEEP = "JSON_TOO_DEEP", 400, "JSON nested over 32 levels"
    INVALID_CHARACTERS = (
        "INVALID_CHARACTERS",
        400,
        "NUL or a lone surrogate in the body, path, query or a header",
    )
    INVALID_EXPIRY = "INVALID_EXPIRY", 400, "an expiry that is malformed or not in the future"
    INVALID_SETTINGS = (
        "INVALID_SETTINGS",
        400,
        "settings with unknown keys or values of the wrong shape",
    )
    NOTHING_TO_CHANGE = "NOTHING_TO_CHANGE", 400, "an update that names nothing to change"
    AUTHENTICATION_FAILED = "AUTHENTICATION_FAILED", 401, "the credentials were refused"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED", 401, "no credentials were sent"
    FORBIDDEN = "FORBIDDEN", 403, "the caller may not do this"
    PERMISSION_DENIED = "PERMISSION_DENIED", 403, "the caller's role does not allow this"
    NOT_FOUND = "NOT_FOUND", 404, "unknown path, or a resource the caller cannot see"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED", 405, "wrong method (with `Allow`)"
    CONFLICT = "CONFLICT", 409, "the resource already exists"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE", 413, "body over `MAX_REQUEST_BODY_BYTES`"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE", 415, "body is not JSON"
    ACCOUNT_LOCKED = (
        "ACCOUNT_LOCKED",
        423,
        "too many failed logins or wrong passwords (login and every endpoint that asks "
        "for the password); `locked_until` says when it ends",
    )
    RATE_LIMITED = (
        "RATE_LIMITED",
        429,
        "a request budget or endpoint limit; `Retry-After` says when to retry",
    )
    INTERNAL_ERROR = "INTERNAL_ERROR", 500, "a bug; the body never carries internals"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE", 503, "a dependency is down; retry"
    DATABASE_UNAVAILABLE = (
        "DATABASE_UNAVAILABLE",
        503,
        "the database refused or dropped the connection (or cancelled the statement); "
        "nothing was changed, retry",
    )
    CACHE_UNAVAILABLE = (
        "CACHE_UNAVAILABLE",
        503,
        "a revocation, suspension or role change could not reach the cache; "
        "nothing was changed, retry",
    )


class ServiceError(Exception):
    status_code = 400
    code: str = CommonErrorCode.BAD_REQUEST
    default_message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: list[str] | None = None,
        code: ErrorCode | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.errors = errors if errors is not None else [self.message]
        self.code = code or self.code
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(self.message)

    def answered(self) -> None:
        """Called once the error is answered, after the transactions it left have
        rolled back: a refusal that must leave a record writes it here."""


class ValidationFailed(ServiceError):
    status_code = 400
    code: str = CommonErrorCode.VALIDATION_ERROR
    default_message = "Validation failed."


class AuthenticationError(ServiceError):
    status_code = 401
    code: str = CommonErrorCode.AUTHENTICATION_FAILED
    default_message = "Invalid credentials."


class Forbidden(ServiceError):
    status_code = 403
    code: str = CommonErrorCode.FORBIDDEN
    default_message = "You do not have permission to perform this action."


class NotFound(ServiceError):
    status_code = 404
    code: str = CommonErrorCode.NOT_FOUND
    default_message = "Not found."


class Conflict(ServiceError):
    status_code = 409
    code: str = CommonErrorCode.CONFLICT
    default_message = "The resource already exists."


class Locked(ServiceError):
    status_code = 423
    code: str = CommonErrorCode.ACCOUNT_LOCKED
    default_message = "This account is temporarily locked after too many failed logins."


class TooManyRequests(ServiceError):
    status_code = 429
    code: str = CommonErrorCode.RATE_LIMITED
    default_message = "Too many requests; slow down."


class ServiceUnavailable(ServiceError):
    status_code = 503
    code: str = CommonErrorCode.SERVICE_UNAVAILABLE
    default_message = "A dependency is unavailable; try again shortly."


class DatabaseUnavailable(ServiceUnavailable):
    code: str = CommonErrorCode.DATABASE_UNAVAILABLE
    default_message = "The database is unavailable; try again shortly."


def outage_error(exc: BaseException) -> ServiceError | None:
    """The 503 for an exception that means a dependency is down, else None.

    OperationalError covers a refused or dropped connection (and, on PostgreSQL,
    a statement cancelled by a timeout or a deadlock): none is the client's fault,
    and each may succeed when retried.
    """
    from django.db import InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError):
        return DatabaseUnavailable()
    return None
