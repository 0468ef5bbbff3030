"""Cache writes that stop a credential: they fail loudly instead of being dropped.

The default cache ignores Redis errors (IGNORE_EXCEPTIONS), so that an unreachable
Redis reads as a miss and requests fall back to the database. A write that revokes a
key or a login session, or drops a suspended user's cached row, must not be dropped
that way: every process would go on trusting the cached state while the caller is
told the change worked. Inside a transaction these raise CacheWriteFailed (503), so
the change is rolled back and can simply be retried. Where nothing can be rolled
back any more (no transaction is open: the change is committed), or where the caller
says the change must stand regardless (`required=False`), the lost write is logged.
"""

import structlog
from django.core.cache import cache
from django.db import transaction
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from core.errors import CommonErrorCode, ServiceUnavailable

logger = structlog.get_logger(__name__)

_UNREACHABLE = (ConnectionInterrupted, RedisError, OSError)


class CacheWriteFailed(ServiceUnavailable):
    code = CommonErrorCode.CACHE_UNAVAILABLE
    default_message = (
        "The change could not be made effective everywhere, so it was not made; try again."
    )


def _raising_client():
    # django-redis: its client raises what the cache object would ignore. Other
    # backends have no such option and raise anyway.
    return getattr(cache, "client", cache)


def _failed(exc: Exception, *, required: bool, keys: int) -> None:
    if required and transaction.get_connection().in_atomic_block:
        raise CacheWriteFailed() from exc
    logger.error("cache_write_lost", keys=keys, error=type(exc).__name__)


def set_many_or_fail(values: dict, timeout: int, *, required: bool = True) -> None:
    try:
        _raising_client().set_many(values, timeout=timeout)
    except _UNREACHABLE as exc:
        _failed(exc, required=required, keys=len(values))


def delete_many_or_fail(keys: list[str], *, required: bool = True) -> None:
    try:
        _raising_client().delete_many(keys)
    except _UNREACHABLE as exc:
        _failed(exc, required=required, keys=len(keys))
