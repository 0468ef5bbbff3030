"""Who is acting in this request, for audit rows and security events.

Set once per request by `RequestContextMiddleware`; services read it instead of
taking the request as an argument. Outside a request (commands, tasks) it is empty.
"""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = ""
    path: str = ""


_NO_REQUEST = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("security_request_context", default=_NO_REQUEST)


def current_context() -> RequestContext:
    return _current.get()


def set_context(context: RequestContext):
    return _current.set(context)


def reset_context(token) -> None:
    _current.reset(token)
