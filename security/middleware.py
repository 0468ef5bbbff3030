"""Defences on the request path: request context, firewall."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from core.envelope import error_response
from core.errors import ServiceError
from core.middleware import UNMETERED_PATH_PREFIXES, is_api_path
from security.admin_pages import is_admin_page, refusal_page
from security.client_ip import client_ip
from security.context import RequestContext, reset_context, set_context
from security.errors import SecurityErrorCode
from security.ratelimits import REQUEST_BUDGET, enforce
from security.services.firewall import ip_blocked_until

GetResponse = Callable[[HttpRequest], HttpResponse]


class RequestContextMiddleware:
    """Publish the client IP, agent and request id for audit rows, events and the staff rules."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_context(
            RequestContext(
                ip_address=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
                request_id=getattr(request, "request_id", ""),
                path=request.path,
                in_request=True,
            )
        )
        try:
            return self.get_response(request)
        finally:
            reset_context(token)


class FirewallMiddleware:
    """Per-IP request budget and temporary IP blocks (FIREWALL_ENABLED).

    Login views carry `defers_ip_block = True`: there a blocked IP is judged after
    the account's lockout, so a locked account hears 423 and why.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        metered = (
            settings.FIREWALL_ENABLED
            and is_api_path(request.path)
            and not request.path.startswith(UNMETERED_PATH_PREFIXES)
        )
        if metered:
            try:
                enforce(request, REQUEST_BUDGET)
            except ServiceError as error:
                response = error_response(
                    error.status_code, message=error.message, code=error.code, request=request
                )
                for name, value in error.headers.items():
                    response[name] = value
                return response
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not settings.FIREWALL_ENABLED or request.path.startswith(UNMETERED_PATH_PREFIXES):
            return None
        until = ip_blocked_until(client_ip(request))
        if until is None:
            return None
        view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
        if getattr(view_class, "defers_ip_block", False):
            request.ip_blocked_until = until
            return None
        if is_admin_page(request):
            return refusal_page(
                request,
                status=403,
                title="Address blocked",
                message="Too many failed attempts from this address; it is blocked for a while.",
                advice="Wait until then, or ask another administrator to lift the block "
                "(the Lift action on IP blocks, or `manage.py unblock_ip`).",
                until=until,
            )
        seconds = max(1, int((until - timezone.now()).total_seconds()))
        response = error_response(
            403,
            message="Too many failed attempts from this address; it is blocked for a while.",
            code=SecurityErrorCode.IP_BLOCKED,
            request=request,
        )
        response["Retry-After"] = str(seconds)
        return response
