"""JWT pairs bound to a login session (claim `sid`), built with simplejwt.

The session row is the one record of which refresh token is alive (its
`refresh_jti`): rotation, re-use detection and revocation all read and write it.
simplejwt's outstanding-token and blacklist tables are not written: no rule of the
service reads them, and a second copy of every token would cost each refresh three
more writes and grow without bound.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.errors import AccountErrorCode
from accounts.models import LoginSession, User
from core.errors import AuthenticationError
from core.ids import id_from_text

SESSION_CLAIM = "sid"
MFA_CLAIM = "mfa"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    session_id: str
    access_expires_in: int


def user_id_from_claim(claim) -> int | None:
    """A token's user id claim as this service signs it (digits), else None."""
    if isinstance(claim, str):
        return id_from_text(claim)
    if isinstance(claim, int) and not isinstance(claim, bool):
        return claim
    return None


def new_jti() -> str:
    return uuid.uuid4().hex


def token_pair_for_session(
    *, user: User, session: LoginSession, access_lifetime: timedelta
) -> TokenPair:
    """Sign a refresh token carrying the session's current jti, and its access token.

    The refresh token expires with the session, and the access token no later.
    """
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user.pk)
    refresh[api_settings.JTI_CLAIM] = session.refresh_jti
    refresh[SESSION_CLAIM] = str(session.pk)
    refresh[MFA_CLAIM] = session.mfa_verified
    refresh.set_exp(
        from_time=refresh.current_time, lifetime=session.expires_at - refresh.current_time
    )
    encoded_refresh = str(refresh)
    refresh_expires_at = datetime_from_epoch(refresh["exp"])
    access = refresh.access_token
    access_lifetime = min(access_lifetime, session.expires_at - refresh.current_time)
    access.set_exp(from_time=refresh.current_time, lifetime=access_lifetime)
    return TokenPair(
        access=str(access),
        refresh=encoded_refresh,
        access_expires_at=datetime_from_epoch(access["exp"]),
        refresh_expires_at=refresh_expires_at,
        session_id=str(session.pk),
        access_expires_in=int(access_lifetime.total_seconds()),
    )


def refresh_token_claims(raw_token: str) -> dict[str, Any]:
    """Verify signature, expiry and type of a refresh token and return its claims."""
    invalid = AuthenticationError(
        "Refresh token is invalid or expired.", code=AccountErrorCode.INVALID_TOKEN
    )
    if not isinstance(raw_token, str) or not raw_token:
        raise invalid
    try:
        claims = token_backend.decode(raw_token, verify=True)
    except TokenBackendError as exc:
        raise invalid from exc
    required = (api_settings.USER_ID_CLAIM, api_settings.JTI_CLAIM, SESSION_CLAIM)
    if claims.get(api_settings.TOKEN_TYPE_CLAIM) != "refresh" or not all(
        claims.get(name) for name in required
    ):
        raise invalid
    return claims
