"""Middleware for the request path: request ids, body limits, envelopes, access log."""

import sys
import time
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse
from django.views import defaults
from rest_framework.response import Response as DRFResponse

from core.envelope import error_response
from core.errors import CommonErrorCode, outage_error
from core.parsers import INVALID_CHARACTERS, has_bad_characters
from core.request_id import HEADER, META_KEY, request_id_from_header

logger = structlog.get_logger("access")
error_logger = structlog.get_logger("errors")

GetResponse = Callable[[HttpRequest], HttpResponse]

# Paths that serve HTML to people; every other path is API and answers JSON only.
HTML_PATH_PREFIXES = (
    "/admin",
    "/staff",
    "/docs",
    "/redoc",
    "/static",
    "/oauth/login",
    "/oauth/authorize",
    "/oauth/social",
)

_STATUS_MESSAGES = {
    400: "Bad request.",
    401: "Authentication credentials were not provided.",
    403: "Forbidden.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "Request body too large.",
    415: "Unsupported media type.",
    500: "Internal server error.",
}
# The codes DRF's own errors carry for the same statuses, so a client switches on one set.
_STATUS_CODES = {
    400: CommonErrorCode.BAD_REQUEST,
    401: CommonErrorCode.NOT_AUTHENTICATED,
    403: CommonErrorCode.PERMISSION_DENIED,
    404: CommonErrorCode.NOT_FOUND,
    405: CommonErrorCode.METHOD_NOT_ALLOWED,
    413: CommonErrorCode.PAYLOAD_TOO_LARGE,
    415: CommonErrorCode.UNSUPPORTED_MEDIA_TYPE,
    500: CommonErrorCode.INTERNAL_ERROR,
}

# Probes and scrapers are not clients: they are never throttled or metered.
UNMETERED_PATH_PREFIXES = ("/health", "/api/v1/health", "/metrics")


def is_api_path(path: str) -> bool:
    return not path.startswith(HTML_PATH_PREFIXES)


class RequestIDMiddleware:
    """Give every request an id (the client's, if sane) and bind it to every log line."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from_header(request.META.get(META_KEY))
        request.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


class RequestSizeLimitMiddleware:
    """Refuse bodies over MAX_REQUEST_BODY_BYTES with 413 before anything reads them."""

    def __init__(self, get_response: GetResponse) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.max_bytes = settings.MAX_REQUEST_BODY_BYTES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            return error_response(400, message="Invalid Content-Length header.", request=request)
        if length > self.max_bytes:
            return error_response(
                413,
                message=f"Request body too large: the limit is {self.max_bytes} bytes.",
                code=CommonErrorCode.PAYLOAD_TOO_LARGE,
                request=request,
            )
        return self.get_response(request)


class RequestCharactersMiddleware:
    """Refuse NUL (and lone surrogates) in the path, query string or headers with 400.

    They would reach the database (a search, a lockout id, a user agent) where
    PostgreSQL text cannot hold NUL. Request bodies are checked by the JSON parser.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = _where_bad_characters(request)
        if where is not None:
            return error_response(
                400,
                message=f"The {where} contains NUL or a lone UTF-16 surrogate.",
                code=INVALID_CHARACTERS,
                request=request,
            )
        return self.get_response(request)


def _where_bad_characters(request: HttpRequest) -> str | None:
    if has_bad_characters(request.path_info):
        return "path"
    query = request.META.get("QUERY_STRING", "")
    # Percent-decoding with replacement (as Django does) turns broken UTF-8 into
    # U+FFFD, never into a surrogate: only an encoded NUL gets through.
    if "%00" in query or "\x00" in query:
        return "query string"
    for name, value in request.META.items():
        if name.startswith("HTTP_") and isinstance(value, str) and has_bad_characters(value):
            return "header " + name[5:].replace("_", "-").title()
    return None


class ApiErrorEnvelopeMiddleware:
    """Turn Django's own error pages (404, 405, 500, ...) into the JSON envelope on API paths."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and is_api_path(request.path)
            and not isinstance(response, DRFResponse)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            message = _STATUS_MESSAGES.get(status, response.reason_phrase or "Error.")
            code = _STATUS_CODES.get(
                status, CommonErrorCode.ERROR if status < 500 else CommonErrorCode.INTERNAL_ERROR
            )
            enveloped = error_response(status, message=message, code=code, request=request)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    enveloped[header] = response[header]
            return enveloped
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request.path):
            return None
        return unhandled_error_response(request, exception)


def unhandled_error_response(request: HttpRequest, exception: BaseException) -> HttpResponse:
    """503 in the envelope for a dependency outage, else a 500 that tells nothing more."""
    outage = outage_error(exception)
    if outage is not None:
        error_logger.error("dependency_unavailable", path=request.path, error=repr(exception))
        return error_response(
            outage.status_code, message=outage.message, code=outage.code, request=request
        )
    error_logger.exception("unhandled_exception", path=request.path)
    return error_response(
        500, message=_STATUS_MESSAGES[500], code=CommonErrorCode.INTERNAL_ERROR, request=request
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: errors raised outside a view (in a middleware) on API paths and pages.

    Django calls it while handling the exception, so sys.exc_info() names it.
    """
    exception = sys.exc_info()[1]
    if is_api_path(request.path) or (exception is not None and outage_error(exception)):
        return unhandled_error_response(request, exception or RuntimeError())
    return defaults.server_error(request)


class AccessLogMiddleware:
    """One structured line per request: method, path, status, duration, user."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        logger.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            user_id=getattr(user, "pk", None),
        )
        return response
