from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.auth.authentication import refuse_read_only_write, refuse_unusable_account
from apikeys.errors import APIKeyErrorCode
from apikeys.services import KEY_PREFIX, apikey_authenticate
from security.client_ip import client_ip
from security.models import SecurityEvent, Severity
from security.services.events import security_event_record
from security.services.firewall import failed_authentication_register


def _bearer(request) -> str:
    """The credential of `Authorization: Bearer …`, or "" without one."""
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return value.strip() if scheme == "Bearer" else ""


def presented_key(request) -> str | None:
    """An API key from `X-API-Key` or `Authorization: Bearer pe-…`, else None."""
    header = request.META.get("HTTP_X_API_KEY")
    if header:
        return header.strip()
    bearer = _bearer(request)
    return bearer if bearer.startswith(KEY_PREFIX) else None


def _session_token_presented(request) -> bool:
    bearer = _bearer(request)
    return bool(bearer) and not bearer.startswith(KEY_PREFIX)


class APIKeyAuthentication(BaseAuthentication):
    """`pe-…` keys; a wrong or expired key is 401, a security event, and a firewall strike.

    Keys open only views that say `accepts_api_keys = True` (the metered API and
    reads of one's own account); account management needs a login session, so a
    key can never mint keys or change the password.
    """

    def authenticate(self, request):
        view = (getattr(request, "parser_context", None) or {}).get("view")
        clear = presented_key(request)
        if clear is None:
            return None
        if not getattr(view, "accepts_api_keys", False):
            if _session_token_presented(request):
                return None  # the session token decides; the key is not for this view
            raise AuthenticationFailed(
                "API keys open only the metered API and the credit balance; "
                "this endpoint needs a session token from login.",
                code=APIKeyErrorCode.API_KEY_NOT_ACCEPTED,
            )
        checked = apikey_authenticate(clear)
        if checked is None:
            security_event_record(
                kind=SecurityEvent.Kind.API_KEY_MISUSE,
                severity=Severity.WARNING,
                details={"key": f"{clear[:7]}…" if clear.startswith(KEY_PREFIX) else "malformed"},
            )
            failed_authentication_register(ip=client_ip(request))
            raise AuthenticationFailed(
                "Invalid, revoked or expired API key.", code=APIKeyErrorCode.INVALID_API_KEY
            )
        identity, user = checked
        refuse_unusable_account(user)
        refuse_read_only_write(request, user)
        return user, identity

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
