"""Who is acting in this request, for audit rows, security events and the staff rules.

Set once per request by `RequestContextMiddleware`; services read it instead of
taking the request as an argument. Outside a request (commands, tasks) it is empty.
The authentication that accepts the request's credential adds whose it is and
whether its login passed MFA, or, for an API key, the key's scopes
(`credential_publish`): the authorization rules read them to narrow what the key's
owner may do in this request (`accounts.authz.keys`). The marker lives here, in
the request's own context, and never on the user object, which other requests may
share through the cache.
"""

from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Credential:
    user_id: int
    mfa_verified: bool
    # The scopes of the API key the request was made with; None for a login.
    key_scopes: frozenset[str] | None = None


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = ""
    path: str = ""
    in_request: bool = False
    credential: Credential | None = None


_NO_REQUEST = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("security_request_context", default=_NO_REQUEST)


def current_context() -> RequestContext:
    return _current.get()


def set_context(context: RequestContext):
    return _current.set(context)


def reset_context(token) -> None:
    _current.reset(token)


def credential_publish(
    *, user_id: int, mfa_verified: bool, key_scopes: frozenset[str] | None = None
) -> bool:
    """Record the request's accepted credential; the middleware's reset drops it.
    False outside a request, where nothing is recorded."""
    context = _current.get()
    if not context.in_request:
        return False
    _current.set(replace(context, credential=Credential(user_id, mfa_verified, key_scopes)))
    return True
