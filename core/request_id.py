"""The id that ties one request's response header, error body and log lines together."""

import re
import uuid

import structlog

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
# A client's id is kept only when it is short and plain, so it cannot inject into logs.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def request_id_from_header(value: str | None) -> str:
    """Honour a well-formed incoming id, otherwise make a new one."""
    if value and _ACCEPTABLE.match(value):
        return value
    return f"req_{uuid.uuid4().hex}"


def current_request_id() -> str | None:
    return structlog.contextvars.get_contextvars().get("request_id")
