"""Errors in OpenAI's shape on the OpenAI-compatible routes, our envelope kept inside.

An OpenAI client reads `{"error": {"message", "type", "code", "param"}}` and exposes
the inner object as the exception's `body`. On `/v1/chat/completions` and `/v1/models`
every error (the view's, the firewall's, a too-large body's) is our envelope moved
under `error` and completed with OpenAI's fields: `code` is our `error_code`, `type`
OpenAI's class of error, `param` the first field named by a validation error. So
`RateLimitError.body` is our 429 envelope, `limits` and `details` included.
"""

import json
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.errors import CommonErrorCode
from credits.errors import CreditErrorCode

OPENAI_PATHS = re.compile(r"^/v1/(chat/completions|models)/?$")

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error"}
_FIELD = re.compile(r"^([A-Za-z_][\w.\[\]]*): ")


def _type_of(status: int, code: str | None) -> str:
    if code == CreditErrorCode.CREDITS_EXHAUSTED:
        return "insufficient_quota"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "api_error"
    return _TYPES.get(status, "invalid_request_error")


def openai_error(envelope: dict, status: int) -> dict:
    """`{"error": {...the envelope, "type", "code", "param"}}`."""
    code = envelope.get("error_code")
    param = None
    errors = envelope.get("errors") or []
    if code == CommonErrorCode.VALIDATION_ERROR and errors:
        found = _FIELD.match(str(errors[0]))
        param = found.group(1) if found else None
    return {"error": {**envelope, "type": _type_of(status, code), "code": code, "param": param}}


class OpenAIErrorShapeMiddleware:
    """Rewrites the JSON error envelope of the OpenAI-compatible routes (outside every
    middleware that answers errors, so theirs are rewritten too)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or response.streaming
            or not OPENAI_PATHS.match(request.path)
            or not response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        try:
            envelope = json.loads(response.content)
        except ValueError:
            return response
        if not isinstance(envelope, dict) or envelope.get("success") is not False:
            return response
        response.content = json.dumps(openai_error(envelope, response.status_code))
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        if envelope.get("error_code") == CreditErrorCode.CREDITS_EXHAUSTED:
            # OpenAI's clients retry a 429 unless told not to: no retry buys a credit.
            response["X-Should-Retry"] = "false"
        return response
