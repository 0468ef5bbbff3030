from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied

from accounts.auth.authentication import refuse_read_only_write, refuse_unusable_account
from accounts.auth.password_policy import password_is_expired
from accounts.authz.keys import KeyRefusal, is_management_permission, key_refusal
from accounts.authz.rules import role_permissions_of
from accounts.errors import AccountErrorCode
from apikeys.errors import APIKeyErrorCode
from apikeys.services import KEY_PREFIX, apikey_authenticate
from core.errors import CommonErrorCode
from security.client_ip import client_ip
from security.context import credential_publish
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


def session_token_presented(request) -> bool:
    bearer = _bearer(request)
    return bool(bearer) and not bearer.startswith(KEY_PREFIX)


NOT_ACCEPTED = object()  # the view takes keys, but not for this operation


def permissions_needed(view, request):
    """What a key must be allowed for this operation of a view that declares
    `api_key_permissions` (by action for viewsets, else by HTTP method); None for a
    view that checks keys by itself (the metered API); NOT_ACCEPTED for an
    operation the view leaves to login sessions."""
    declared = getattr(view, "api_key_permissions", None)
    if declared is None:
        return None
    operation = getattr(view, "action", None) or request.method.lower()
    needed = declared.get(operation)
    if needed is None:
        return NOT_ACCEPTED
    return tuple(str(p) for p in needed) if isinstance(needed, tuple) else (str(needed),)


def _not_accepted(message: str) -> AuthenticationFailed:
    return AuthenticationFailed(message, code=APIKeyErrorCode.API_KEY_NOT_ACCEPTED)


_REFUSALS = {
    KeyRefusal.SCOPE_MISSING: (
        "This API key's scopes do not name {permission}, which this operation needs; "
        "create a key with that scope.",
        APIKeyErrorCode.API_KEY_SCOPE_MISSING,
    ),
    KeyRefusal.STAFF_ACCOUNT: (
        "Keys of platform administrators and support staff carry no management power "
        "({permission}); use a login session.",
        APIKeyErrorCode.API_KEY_STAFF_ACCOUNT,
    ),
    KeyRefusal.NOT_HELD: (
        "The key's owner no longer holds {permission}.",
        CommonErrorCode.PERMISSION_DENIED,
    ),
}


class APIKeyAuthentication(BaseAuthentication):
    """`pe-…` keys; a wrong or expired key is 401, a security event, and a firewall strike.

    Keys open only views that say `accepts_api_keys = True`: the metered API, the
    credit balance, and the operations a view lists in `api_key_permissions` with
    the permission each needs (the user and role management API). A key opens a
    management operation only when its scopes name the permission and its owner,
    an ordinary account, holds it now; the request then acts with the owner's role
    narrowed to the key's scopes (`accounts.authz.keys`). Keys, passwords, MFA,
    email, sessions and account deletion need a login session, so a key can never
    mint keys or take over its account.
    """

    def authenticate(self, request):
        view = (getattr(request, "parser_context", None) or {}).get("view")
        clear = presented_key(request)
        if clear is None:
            return None
        needed = permissions_needed(view, request)
        if not getattr(view, "accepts_api_keys", False) or needed is NOT_ACCEPTED:
            if session_token_presented(request):
                return None  # the session token decides; the key is not for this view
            raise _not_accepted(
                "API keys do not open this operation; it needs a session token from login."
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
        # The scopes narrow the owner's permissions for the rest of this request; a
        # management operation is refused where they could not be recorded.
        scoped = credential_publish(
            user_id=user.pk, mfa_verified=False, key_scopes=frozenset(identity.scopes)
        )
        refuse_read_only_write(request, user)
        if needed is not None:
            if not scoped:
                raise _not_accepted("API keys open management operations only in a request.")
            self._refuse_out_of_scope(user, identity.scopes, needed)
            # A management key is as strong as its owner's login, which an expired
            # password stops until it is changed (PASSWORD_EXPIRY_DAYS).
            if any(map(is_management_permission, needed)) and password_is_expired(user):
                raise PermissionDenied(
                    "The key's owner must change their expired password before the key "
                    "manages anything again.",
                    code=AccountErrorCode.PASSWORD_EXPIRED,
                )
        return user, identity

    @staticmethod
    def _refuse_out_of_scope(user, scopes, needed: tuple[str, ...]) -> None:
        refusal = key_refusal(user, scopes=scopes, any_of=needed, held=role_permissions_of(user))
        if refusal is not None:
            reason, permission = refusal
            message, code = _REFUSALS[reason]
            raise PermissionDenied(message.format(permission=permission), code=code)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
