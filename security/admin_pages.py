"""The admin site's answers to a refused login: an HTML page in the admin's look, with
the unlock time, where the API answers with the JSON envelope (same status codes)."""

from datetime import UTC, datetime

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone


def is_admin_page(request: HttpRequest) -> bool:
    try:
        return request.path.startswith(reverse("admin:index"))
    except NoReverseMatch:
        return False


def refusal_page(
    request: HttpRequest, *, status: int, title: str, message: str, advice: str, until: datetime
) -> HttpResponse:
    """The page for a lockout (423) or an IP block (403), with `Retry-After`."""
    seconds = max(1, int((until - timezone.now()).total_seconds()))
    until_utc = until.astimezone(UTC)
    context = {
        **admin.site.each_context(request),
        "title": title,
        "message": message,
        "advice": advice,
        "until": until_utc,
        "until_iso": until_utc.isoformat().replace("+00:00", "Z"),
        "minutes": max(1, round(seconds / 60)),
    }
    response = TemplateResponse(request, "admin/refused.html", context, status=status)
    response["Retry-After"] = str(seconds)
    return response.render()
