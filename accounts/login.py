"""Password login: prove the credentials, then judge the account, then open a session."""

from dataclasses import dataclass

import structlog
from django.contrib.auth import authenticate
from django.http import HttpRequest

from accounts.models import User
from accounts.sessions import ClientInfo, account_status_error, session_start
from accounts.tokens import TokenPair
from config.errors import AuthenticationError

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LoginResult:
    user: User
    tokens: TokenPair


def login_with_password(
    *,
    request: HttpRequest,
    identifier: str,
    password: str,
    client: ClientInfo,
    tenant_id: int | None = None,
    remember_me: bool = False,
) -> LoginResult:
    """Log in by email or username.

    Wrong password, unknown account and wrong tenant give the same 401, so the
    answer reveals nothing; a suspended or pending account hears why (403) only
    after its password was proven.
    """
    user = authenticate(request, username=identifier, password=password)
    if user is None or (tenant_id is not None and user.tenant_id != tenant_id):
        logger.info("login_failed")
        raise AuthenticationError("Invalid credentials.", code="INVALID_CREDENTIALS")
    status_error = account_status_error(user)
    if status_error:
        logger.info("login_refused", user_id=user.pk, status=user.status)
        raise status_error
    tokens = session_start(user=user, client=client, remember_me=remember_me)
    logger.info("login_succeeded", user_id=user.pk)
    return LoginResult(user=user, tokens=tokens)
