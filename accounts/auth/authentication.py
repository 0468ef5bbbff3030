"""DRF authentication by session-bound JWT access tokens, and the checks every
authenticated request passes whatever its credential (API keys use them too)."""

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from accounts.auth.jwt_tokens import MFA_CLAIM, SESSION_CLAIM
from accounts.auth.password_policy import password_is_expired
from accounts.auth.request_auth import user_for_access_token
from accounts.authz.rules import role_is_read_only
from accounts.errors import AccountErrorCode
from accounts.models import User
from security.context import credential_publish


def refuse_unusable_account(user: User) -> None:
    """Inactive accounts and members of deactivated tenants authenticate with nothing."""
    if not user.is_active:
        raise AuthenticationFailed("User is inactive", code=AccountErrorCode.USER_INACTIVE)
    if user.tenant_id is not None and not user.tenant.is_active:
        raise AuthenticationFailed(
            "The organisation is deactivated.", code=AccountErrorCode.TENANT_INACTIVE
        )


def refuse_read_only_write(request, user: User) -> None:
    """An account whose role holds only `read:*` permissions (the guest role) reads
    and does nothing else: any other method is 403 ROLE_READ_ONLY, unless the view
    says `allows_read_only_role = True` (password change, logout, ending one's own
    sessions, the metered API).

    Checked here, in the authentication every credential passes, so a view cannot
    forget it: a new view is closed to read-only roles until it opens itself."""
    if request.method in SAFE_METHODS:
        return
    view = (getattr(request, "parser_context", None) or {}).get("view")
    if getattr(view, "allows_read_only_role", False):
        return
    if user.role_id is not None and role_is_read_only(user.role):
        raise PermissionDenied(
            "Your role is read-only: it may read, change its password and log out.",
            code=AccountErrorCode.ROLE_READ_ONLY,
        )


class SessionJWTAuthentication(JWTAuthentication):
    """simplejwt access tokens, refused as soon as their login session is revoked."""

    def get_raw_token(self, header: bytes):
        token = super().get_raw_token(header)
        # API keys and OAuth access tokens travel in the same header; their own
        # classes judge them.
        return None if token is not None and token.startswith((b"pe-", b"oat-")) else token

    def get_user(self, validated_token: Token) -> User:
        user = user_for_access_token(
            session_id=validated_token.get(SESSION_CLAIM),
            user_id=validated_token.get(api_settings.USER_ID_CLAIM),
        )
        if user is None:
            raise AuthenticationFailed(
                "This session has been revoked or has expired.",
                code=AccountErrorCode.SESSION_REVOKED,
            )
        refuse_unusable_account(user)
        return user

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            view = (getattr(request, "parser_context", None) or {}).get("view")
            if not getattr(view, "allows_expired_password", False) and password_is_expired(
                result[0]
            ):
                raise PermissionDenied(
                    "Your password has expired: change it to continue.",
                    code=AccountErrorCode.PASSWORD_EXPIRED,
                )
            user, token = result
            refuse_read_only_write(request, user)
            credential_publish(user_id=user.pk, mfa_verified=bool(token.get(MFA_CLAIM)))
        return result
