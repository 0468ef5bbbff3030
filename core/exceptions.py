"""DRF exception handler: every API error leaves in the one envelope."""

from typing import Any

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.envelope import error_body
from core.errors import CommonErrorCode, ServiceError, outage_error

logger = structlog.get_logger(__name__)

VALIDATION_MESSAGE = "Validation failed."
PARSE_MESSAGE = "Malformed request body."


def flatten_errors(detail: Any, field: str | None = None) -> list[str]:
    """Turn DRF's nested error detail into a flat list of readable strings."""
    if isinstance(detail, dict):
        if "detail" in detail and field is None:
            return [str(detail["detail"])]
        flattened: list[str] = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else None
            if field and name:
                name = f"{field}.{name}"
            flattened.extend(flatten_errors(value, name or field))
        return flattened
    if isinstance(detail, list):
        flattened = []
        for index, item in enumerate(detail):
            nested = f"{field}[{index}]" if field and isinstance(item, dict) else field
            flattened.extend(flatten_errors(item, nested))
        return flattened
    return [f"{field}: {detail}" if field else str(detail)]


def _message_for(exc: exceptions.APIException, errors: list[str]) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return VALIDATION_MESSAGE
    if isinstance(exc, exceptions.ParseError):
        return PARSE_MESSAGE
    return errors[0] if errors else str(exc.default_detail)


def _code_for(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return CommonErrorCode.VALIDATION_ERROR
    detail = exc.detail
    code = detail.get("code") if isinstance(detail, dict) else getattr(detail, "code", None)
    return str(code or exc.default_code).upper()


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Render ServiceError, DRF and Django errors; leave the rest to the 500 path."""
    request = context.get("request")
    outage = outage_error(exc)
    if outage is not None:
        logger.error("dependency_unavailable", error=repr(exc))
        exc = outage
    if isinstance(exc, ServiceError):
        exc.answered()
        body = error_body(
            message=exc.message, errors=exc.errors, code=exc.code, extra=exc.extra, request=request
        )
        return Response(body, status=exc.status_code, headers=exc.headers)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    errors = flatten_errors(exc.detail)
    body = error_body(
        message=_message_for(exc, errors), errors=errors, code=_code_for(exc), request=request
    )
    if exc.status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
        logger.error("api_error", status=exc.status_code, error=str(exc))
    return Response(body, status=exc.status_code, headers=headers)
