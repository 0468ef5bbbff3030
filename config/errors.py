"""Domain errors raised by services and rendered by one handler into the envelope.

Each error carries an HTTP status and a stable upper-case code that clients can
switch on; the message is for people.
"""

from typing import Any


class ServiceError(Exception):
    status_code = 400
    code = "BAD_REQUEST"
    default_message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: list[str] | None = None,
        code: str | None = None,
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
    code = "VALIDATION_ERROR"
    default_message = "Validation failed."


class AuthenticationError(ServiceError):
    status_code = 401
    code = "AUTHENTICATION_FAILED"
    default_message = "Invalid credentials."


class Forbidden(ServiceError):
    status_code = 403
    code = "FORBIDDEN"
    default_message = "You do not have permission to perform this action."


class NotFound(ServiceError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = "Not found."


class Conflict(ServiceError):
    status_code = 409
    code = "CONFLICT"
    default_message = "The resource already exists."


class Locked(ServiceError):
    status_code = 423
    code = "ACCOUNT_LOCKED"
    default_message = "This account is temporarily locked after too many failed logins."


class TooManyRequests(ServiceError):
    status_code = 429
    code = "RATE_LIMITED"
    default_message = "Too many requests; slow down."


class ServiceUnavailable(ServiceError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "A dependency is unavailable; try again shortly."


class DatabaseUnavailable(ServiceUnavailable):
    code = "DATABASE_UNAVAILABLE"
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
