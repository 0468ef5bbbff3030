"""Password login: defences first, then the credentials, then the account, then a session.

An account with MFA gets no session from the password step: it gets a short-lived
single-purpose token for the code step (`complete_mfa_login`).
"""

from collections.abc import Callable
from dataclasses import dataclass

import structlog
from django.contrib.auth import authenticate, user_logged_in, user_login_failed
from django.db import transaction
from django.http import HttpRequest

from accounts.auth.jwt_tokens import TokenPair
from accounts.auth.password_policy import password_is_expired
from accounts.auth.request_cache import forget_cached_user
from accounts.errors import AccountErrorCode
from accounts.models import LoginSession, User
from accounts.selectors import account_status_error, mfa_challenge_identifier, user_has_mfa
from accounts.services import mfa
from accounts.services.sessions import ClientInfo, session_start
from core.errors import AuthenticationError, Forbidden
from security.errors import SecurityErrorCode
from security.lockout import account_locked_until, locked_error, lockout_error_for

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LoginResult:
    user: User
    tokens: TokenPair | None = None
    mfa_token: str | None = None

    @property
    def password_expired(self) -> bool:
        return password_is_expired(self.user)


def _refuse_blocked_ip(request: HttpRequest, identifier: str) -> None:
    """A blocked IP is told of the account's lockout first (423), else of the block (403)."""
    if getattr(request, "ip_blocked_until", None) is None:
        return
    locked_until = account_locked_until(identifier)
    if locked_until is not None:
        raise locked_error(locked_until)
    raise Forbidden(
        "Too many failed attempts from this address; it is blocked for a while.",
        code=SecurityErrorCode.IP_BLOCKED,
    )


def login_with_password(
    *,
    request: HttpRequest,
    identifier: str,
    password: str,
    client: ClientInfo,
    tenant_id: int | None = None,
    remember_me: bool = False,
    surface: str = LoginSession.Surface.API,
    admits: Callable[[User], bool] | None = None,
) -> LoginResult:
    """Log in by email or username.

    Wrong password, unknown account, wrong tenant and an account the surface does
    not `admits` (the staff logins) give the same 401, so the answer reveals
    nothing; the last counts as a failed login (lockout, firewall) although the
    password was right. A locked identifier gets 423 (even with the right
    password); a suspended or pending account hears why (403) only after its
    password was proven.
    """
    _refuse_blocked_ip(request, identifier)
    user = authenticate(request, username=identifier, password=password)
    if getattr(request, "axes_locked_out", False):
        raise lockout_error_for(identifier)
    if user is not None and admits is not None and not admits(user):
        logger.info("login_refused_by_surface", user_id=user.pk, surface=surface)
        user_login_failed.send(sender=User, credentials={"username": identifier}, request=request)
        if getattr(request, "axes_locked_out", False):
            raise lockout_error_for(identifier)
        user = None
    if user is None or (tenant_id is not None and user.tenant_id != tenant_id):
        logger.info("login_failed")
        raise AuthenticationError("Invalid credentials.", code=AccountErrorCode.INVALID_CREDENTIALS)
    status_error = account_status_error(user)
    if status_error:
        logger.info("login_refused", user_id=user.pk, status=user.status)
        raise status_error
    if user_has_mfa(user):
        token = mfa.mfa_challenge_create(
            user=user,
            identifier=identifier,
            remember_me=remember_me,
            surface=surface,
            ip_address=client.ip_address,
            user_agent=client.user_agent,
        )
        logger.info("login_needs_mfa", user_id=user.pk)
        return LoginResult(user=user, mfa_token=token)
    return _finish(
        request, user, client, surface=surface, remember_me=remember_me, mfa_verified=False
    )


def complete_mfa_login(*, request: HttpRequest, mfa_token: str, code: str, client: ClientInfo):
    """The code step: a valid TOTP or recovery code turns the challenge into a session."""
    identifier = mfa_challenge_identifier(mfa_token)
    _refuse_blocked_ip(request, identifier or "")
    if identifier is not None:
        locked_until = account_locked_until(identifier)
        if locked_until is not None:
            raise locked_error(locked_until)
    challenge = mfa.mfa_challenge_redeem(request=request, token=mfa_token, code=code)
    status_error = account_status_error(challenge.user)
    if status_error:
        raise status_error
    return _finish(
        request,
        challenge.user,
        client,
        surface=challenge.surface,
        remember_me=challenge.remember_me,
        mfa_verified=True,
    )


def login_with_external_identity(
    *,
    request: HttpRequest,
    user: User,
    client: ClientInfo,
    surface: str = LoginSession.Surface.OAUTH,
) -> LoginResult:
    """Log in an account an external identity provider vouched for (social login).

    The provider replaces the password only: an IP block, the account's lockout and
    its status refuse it as they refuse a password login, and an account with MFA
    still gets only a challenge for the code step."""
    _refuse_blocked_ip(request, user.username)
    for identifier in (user.username, user.email):
        locked_until = account_locked_until(identifier) if identifier else None
        if locked_until is not None:
            raise locked_error(locked_until)
    status_error = account_status_error(user)
    if status_error:
        raise status_error
    if user_has_mfa(user):
        token = mfa.mfa_challenge_create(
            user=user,
            identifier=user.username,
            remember_me=False,
            surface=surface,
            ip_address=client.ip_address,
            user_agent=client.user_agent,
        )
        return LoginResult(user=user, mfa_token=token)
    return _finish(request, user, client, surface=surface, remember_me=False, mfa_verified=False)


def _finish(
    request,
    user: User,
    client: ClientInfo,
    *,
    surface: str,
    remember_me: bool,
    mfa_verified: bool,
):
    # One transaction for the login's writes: the lockout count's reset (axes),
    # last_login (Django), the session with its audit row and event.
    with transaction.atomic():
        user_logged_in.send(sender=User, request=request, user=user)
        tokens = session_start(
            user=user,
            client=client,
            surface=surface,
            remember_me=remember_me,
            mfa_verified=mfa_verified,
        )
    # last_login (and a password re-hashed at a new cost) changed: nothing taken away.
    forget_cached_user(user.pk, must_succeed=False)
    logger.info("login_succeeded", user_id=user.pk, mfa=mfa_verified)
    return LoginResult(user=user, tokens=tokens)
