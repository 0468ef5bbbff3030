from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from accounts.models import User
from accounts.sessions import session_is_active, session_touch
from accounts.tokens import SESSION_CLAIM


class SessionJWTAuthentication(JWTAuthentication):
    """simplejwt access tokens, refused as soon as their login session is revoked."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = super().get_validated_token(raw_token)
        session_id = token.get(SESSION_CLAIM)
        if not isinstance(session_id, str) or not session_is_active(session_id):
            raise AuthenticationFailed(
                "This session has been revoked or has expired.", code="session_revoked"
            )
        session_touch(session_id)
        return token

    def get_user(self, validated_token: Token) -> User:
        """Load the user with its role in one query (every view shows the role)."""
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        if user_id is None:
            raise InvalidToken("Token contained no recognizable user identification")
        user = User.objects.select_related("role").filter(pk=user_id).first()
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return user
