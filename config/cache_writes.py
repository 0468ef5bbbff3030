"""Cache writes that stop a credential: they fail loudly instead of being dropped.

The default cache ignores Redis errors (IGNORE_EXCEPTIONS), so that an unreachable
Redis reads as a miss and requests fall back to the database. A write that revokes a
key or a login session, or drops a suspended user's cached row, must not be dropped
that way: every process would go on trusting the cached state while the caller is
told the change worked. These raise CacheWriteFailed (503) instead, inside the
caller's transaction, so the change is rolled back and can simply be retried.
"""

from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from config.errors import ServiceUnavailable

_UNREACHABLE = (ConnectionInterrupted, RedisError, OSError)


class CacheWriteFailed(ServiceUnavailable):
    code = "CACHE_UNAVAILABLE"
    default_message = (
        "The change could not be made effective everywhere, so it was not made; try again."
    )


def _raising_client():
    # django-redis: its client raises what the cache object would ignore. Other
    # backends have no such option and raise anyway.
    return getattr(cache, "client", cache)


def set_many_or_fail(values: dict, timeout: int) -> None:
    try:
        _raising_client().set_many(values, timeout=timeout)
    except _UNREACHABLE as exc:
        raise CacheWriteFailed() from exc


def delete_many_or_fail(keys: list[str]) -> None:
    try:
        _raising_client().delete_many(keys)
    except _UNREACHABLE as exc:
        raise CacheWriteFailed() from exc
