"""The one error body every API path answers with (the product's error format)."""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from core.request_id import current_request_id


def error_body(
    *,
    message: str,
    errors: list[str] | None = None,
    code: str | None = None,
    extra: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> dict[str, Any]:
    """Build `{"success": false, "message", "errors", "details"}` plus extras."""
    request_id = getattr(request, "request_id", None) or current_request_id()
    body: dict[str, Any] = {
        "success": False,
        "message": message,
        "errors": errors if errors is not None else [message],
    }
    if code:
        body["error_code"] = code
    if extra:
        body.update(extra)
    body["details"] = {
        "request_id": request_id,
        "timestamp": timezone.now().isoformat().replace("+00:00", "Z"),
    }
    return body


def error_response(
    status: int, *, message: str, code: str | None = None, request: HttpRequest | None = None
) -> JsonResponse:
    """A plain Django JSON response in the envelope, for errors outside DRF views."""
    return JsonResponse(error_body(message=message, code=code, request=request), status=status)
