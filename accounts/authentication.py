from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import Token

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
