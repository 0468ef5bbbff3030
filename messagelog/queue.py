"""The Redis list that holds conversations between the request and the batched flush.

Three lists under the cache's key prefix: `queue` (new entries, pushed by requests),
`inflight` (the batch a flusher has claimed and not yet confirmed) and `dead`
(entries that can never be written, kept for an operator). Claiming moves entries
from `queue` to `inflight` in one server-side step, so a flusher that dies leaves
its batch in `inflight` for the next one; entries carry ids made at enqueue, so
writing a batch twice stores each row once. One more key holds when a flusher last
ran, for the operators' console.
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache as cache_once

from django.core.cache import cache
from redis import Redis
from redis.lock import Lock

LOCK_SECONDS = 120

# Push as many of ARGV[2..] as fit under ARGV[1] entries; answer {pushed, new length}.
_PUSH = """
local length = redis.call('LLEN', KEYS[1])
local fits = math.min(tonumber(ARGV[1]) - length, #ARGV - 1)
if fits <= 0 then return {0, length} end
return {fits, redis.call('RPUSH', KEYS[1], unpack(ARGV, 2, fits + 1))}
"""
# Entries per push: Lua's `unpack` is bounded by the interpreter's stack.
PUSH_CHUNK = 1000

# Move up to ARGV[1] entries from the head of the queue to the in-flight list.
_CLAIM = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  redis.call('RPUSH', KEYS[2], unpack(items))
end
return items
"""

# Forget the in-flight batch only if it is still the one this flusher claimed.
_RELEASE = """
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class MessageQueue:
    """The three lists and the flush lock, on the Redis server behind the default cache."""

    def __init__(self, client: Redis, make_key: Callable[[str], str]) -> None:
        self._redis = client
        key = make_key
        self.queue_key = key("messagelog:queue")
        self.inflight_key = key("messagelog:inflight")
        self.dead_key = key("messagelog:dead")
        self.lock_key = key("messagelog:flush-lock")
        self.last_flush_key = key("messagelog:last-flush")
        self._push = self._redis.register_script(_PUSH)
        self._claim = self._redis.register_script(_CLAIM)
        self._release = self._redis.register_script(_RELEASE)

    def push(self, entries: list[bytes], *, max_size: int) -> tuple[int, int]:
        """Append the entries that fit under `max_size`, in order, in one round trip.

        Returns how many were pushed (the first ones) and the queue's length after.
        At most PUSH_CHUNK entries at a time.
        """
        pushed, length = self._push(keys=[self.queue_key], args=[max_size, *entries])
        return int(pushed), int(length)

    def claim(self, count: int) -> list[bytes]:
        return list(self._claim(keys=[self.queue_key, self.inflight_key], args=[count]))

    def inflight(self) -> list[bytes]:
        return list(self._redis.lrange(self.inflight_key, 0, -1))

    def release(self, batch: list[bytes]) -> None:
        """Drop the in-flight batch once its rows are committed."""
        if batch:
            self._release(keys=[self.inflight_key], args=[batch[0]])

    def bury(self, entries: list[bytes]) -> None:
        """Keep entries that can never be written where an operator can read them."""
        if entries:
            self._redis.rpush(self.dead_key, *entries)

    def depth(self) -> dict[str, int]:
        pipe = self._redis.pipeline(transaction=False)
        for key in (self.queue_key, self.inflight_key, self.dead_key):
            pipe.llen(key)
        queued, inflight, dead = pipe.execute()
        return {"queued": queued, "inflight": inflight, "dead": dead}

    def mark_flushed(self, *, at: str, settled: int) -> None:
        """Remember when a flusher last ran (an ISO time) and what it settled."""
        self._redis.set(self.last_flush_key, json.dumps({"at": at, "settled": settled}))

    def last_flush(self) -> dict | None:
        """`{"at": ISO time, "settled": n}` of the last flush run, None if none is known."""
        raw = self._redis.get(self.last_flush_key)
        return json.loads(raw) if raw else None

    @contextmanager
    def exclusive(self) -> Iterator[Lock | None]:
        """The flush lock if nobody else holds it, else None; a long flush calls
        `reacquire()` on it between batches so it does not expire mid-way."""
        lock = self._redis.lock(self.lock_key, timeout=LOCK_SECONDS, blocking=False)
        acquired = lock.acquire()
        try:
            yield lock if acquired else None
        finally:
            if acquired and lock.owned():
                lock.release()


@cache_once
def message_queue() -> MessageQueue | None:
    """The Redis queue, or None on the embedded set-up, which writes each entry directly.

    Built once per process: the client is thread-safe and shares the cache's pool.
    """
    if not hasattr(cache, "delete_pattern"):
        return None
    from django_redis import get_redis_connection

    return MessageQueue(get_redis_connection("default"), cache.make_key)
