"""DRF authentication by OAuth access tokens (`oat-…`) issued by this provider.

A token opens only the operations a view lists in `api_key_permissions` (what an
API key may do, by the same rules): it acts as its user with the role's permissions
as they are now narrowed to the token's scopes (`accounts.authz.keys`), never with
platform power. A client-credentials token has no user and opens none of them.
"""

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied

from accounts.auth.authentication import refuse_read_only_write, refuse_unusable_account
from accounts.authz.keys import key_refusal
from accounts.authz.rules import role_permissions_of
from apikeys.authentication import NOT_ACCEPTED, permissions_needed
from oauth.errors import OAuthErrorCode
from oauth.scopes import permission_scopes
from oauth.tokens import ACCESS_TOKEN_PREFIX
from security.client_ip import client_ip
from security.context import credential_publish
from security.models import SecurityEvent, Severity
from security.services.events import security_event_record
from security.services.firewall import failed_authentication_register


def _presented_token(request) -> str | None:
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    value = value.strip()
    return value if scheme == "Bearer" and value.startswith(ACCESS_TOKEN_PREFIX) else None


class OAuthTokenAuthentication(OAuth2Authentication):
    def authenticate(self, request):
        token = _presented_token(request)
        if token is None:
            return None
        view = (getattr(request, "parser_context", None) or {}).get("view")
        needed = permissions_needed(view, request)
        if needed is None or needed is NOT_ACCEPTED:
            raise AuthenticationFailed(
                "OAuth access tokens do not open this operation.",
                code=OAuthErrorCode.OAUTH_TOKEN_NOT_ACCEPTED,
            )
        result = super().authenticate(request)
        if result is not None and result[0] is None:
            raise AuthenticationFailed(
                "A client-credentials token acts for its application, not for a user.",
                code=OAuthErrorCode.OAUTH_TOKEN_NOT_ACCEPTED,
            )
        if result is None:
            security_event_record(
                kind=SecurityEvent.Kind.API_KEY_MISUSE,
                severity=Severity.WARNING,
                details={"credential": "oauth_access_token"},
            )
            failed_authentication_register(ip=client_ip(request))
            raise AuthenticationFailed(
                "Invalid, expired or revoked OAuth access token.",
                code=OAuthErrorCode.OAUTH_TOKEN_INVALID,
            )
        user, access_token = result
        refuse_unusable_account(user)
        scopes = permission_scopes(access_token.scope.split())
        if not credential_publish(user_id=user.pk, mfa_verified=False, key_scopes=scopes):
            raise AuthenticationFailed(
                "OAuth access tokens are accepted only in a request.",
                code=OAuthErrorCode.OAUTH_TOKEN_NOT_ACCEPTED,
            )
        refuse_read_only_write(request, user)
        self._refuse_out_of_scope(user, scopes, needed)
        return user, access_token

    @staticmethod
    def _refuse_out_of_scope(user, scopes, needed) -> None:
        refusal = key_refusal(user, scopes=scopes, any_of=needed, held=role_permissions_of(user))
        if refusal is not None:
            raise PermissionDenied(
                f"This token may not do this operation ({refusal[1]}).",
                code=OAuthErrorCode.OAUTH_SCOPE_MISSING,
            )

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
