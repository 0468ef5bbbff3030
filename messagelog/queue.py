"""The Redis list that holds conversations between the request and the batched flush.

Three lists under the cache's key prefix: `queue` (new entries, pushed by requests),
`inflight` (the batch a flusher has claimed and not yet confirmed) and `dead`
(entries that can never be written, kept for an operator). Claiming moves entries
from `queue` to `inflight` in one server-side step, so a flusher that dies leaves
its batch in `inflight` for the next one; entries carry ids made at enqueue, so
writing a batch twice stores each row once. One more key holds when a flusher last
ran, for the operators' console.

One flusher at a time holds a short lease (LEASE_SECONDS), renewed by a thread
while it works: a flusher that dies (SIGKILL, out of memory) frees it within
seconds. Claiming and releasing a batch check the lease on the Redis server, so a
flusher that lost its lease (frozen past it) can no longer touch the lists.
"""

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache as cache_once

import structlog
from django.core.cache import cache
from redis import Redis
from redis.exceptions import RedisError

logger = structlog.get_logger(__name__)

# How long a flusher's claim outlives the flusher: the wait before another takes over.
LEASE_SECONDS = 5.0
# The working flusher renews its lease this often, well inside LEASE_SECONDS.
RENEW_EVERY_SECONDS = 1.0

# Push all of ARGV[2..] if they fit under ARGV[1] entries, else none (the caller then
# writes them all to the database): one request's entries go to one place together.
# Answers {pushed, new length}.
_PUSH = """
local length = redis.call('LLEN', KEYS[1])
if length + #ARGV - 1 > tonumber(ARGV[1]) then return {0, length} end
return {#ARGV - 1, redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))}
"""
# Entries per push: Lua's `unpack` is bounded by the interpreter's stack.
PUSH_CHUNK = 1000

# Move up to ARGV[1] entries from the head of the queue to the in-flight list, if
# the lease KEYS[3] is still the caller's (ARGV[2]); nil when it is not.
_CLAIM = """
if redis.call('GET', KEYS[3]) ~= ARGV[2] then return false end
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  redis.call('RPUSH', KEYS[2], unpack(items))
end
return items
"""

# Forget the in-flight batch only if it is still the one this flusher claimed and the
# lease KEYS[2] is still the caller's (ARGV[2]): 1 when forgotten.
_RELEASE = """
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Extend the lease KEYS[1] by ARGV[2] ms if it is still held by ARGV[1].
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# Give the lease KEYS[1] up if it is still held by ARGV[1].
_GIVE_UP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LeaseLost(Exception):
    """The flusher's lease expired (it stalled past LEASE_SECONDS); another may work now."""


class Lease:
    """One flusher's hold on the lists: a random token under the lock key, renewed by a
    thread every RENEW_EVERY_SECONDS until `end`."""

    def __init__(self, queue: "MessageQueue", token: str) -> None:
        self.token = token
        self._queue = queue
        self._stop = threading.Event()
        self.lost = False
        self._thread = threading.Thread(target=self._keep, name="messagelog-lease", daemon=True)
        self._thread.start()

    def _keep(self) -> None:
        while not self._stop.wait(RENEW_EVERY_SECONDS):
            try:
                held = self._queue.renew(self.token)
            except RedisError as exc:  # retried on the next beat, inside the lease
                logger.warning("message_log_lease_renewal_failed", error=type(exc).__name__)
                continue
            if not held:
                self.lost = True
                logger.warning("message_log_lease_lost")
                return

    def end(self) -> None:
        self._stop.set()
        self._thread.join()
        try:
            self._queue.give_up(self.token)
        except RedisError as exc:  # it expires on its own within LEASE_SECONDS
            logger.warning("message_log_lease_release_failed", error=type(exc).__name__)


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
        self._renew = self._redis.register_script(_RENEW)
        self._give_up = self._redis.register_script(_GIVE_UP)

    def push(self, entries: list[bytes], *, max_size: int) -> tuple[int, int]:
        """Append all the entries, in order, in one round trip, if the queue then holds
        at most `max_size`; otherwise none.

        Returns how many were pushed (all or 0) and the queue's length after.
        At most PUSH_CHUNK entries at a time.
        """
        pushed, length = self._push(keys=[self.queue_key], args=[max_size, *entries])
        return int(pushed), int(length)

    def claim(self, count: int, *, lease: Lease) -> list[bytes]:
        """Move up to `count` queued entries in flight; LeaseLost if the lease expired."""
        items = self._claim(
            keys=[self.queue_key, self.inflight_key, self.lock_key], args=[count, lease.token]
        )
        if items is None:
            raise LeaseLost
        return list(items)

    def inflight(self) -> list[bytes]:
        return list(self._redis.lrange(self.inflight_key, 0, -1))

    def release(self, batch: list[bytes], *, lease: Lease) -> None:
        """Drop the in-flight batch once its rows are committed; LeaseLost if the lease
        expired meanwhile (the batch then stays for the next flusher, who stores it once)."""
        if batch and not self._release(
            keys=[self.inflight_key, self.lock_key], args=[batch[0], lease.token]
        ):
            raise LeaseLost

    def renew(self, token: str) -> bool:
        return bool(self._renew(keys=[self.lock_key], args=[token, int(LEASE_SECONDS * 1000)]))

    def give_up(self, token: str) -> None:
        self._give_up(keys=[self.lock_key], args=[token])

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
    def exclusive(self) -> Iterator[Lease | None]:
        """The flush lease if nobody else holds it, else None; held (renewed by its
        thread) until the block ends, and for at most LEASE_SECONDS after a crash."""
        token = secrets.token_hex(16)
        if not self._redis.set(self.lock_key, token, nx=True, px=int(LEASE_SECONDS * 1000)):
            yield None
            return
        lease = Lease(self, token)
        try:
            yield lease
        finally:
            lease.end()


@cache_once
def message_queue() -> MessageQueue | None:
    """The Redis queue, or None on the embedded set-up, which writes each entry directly.

    Built once per process: the client is thread-safe and shares the cache's pool.
    """
    if not hasattr(cache, "delete_pattern"):
        return None
    from django_redis import get_redis_connection

    return MessageQueue(get_redis_connection("default"), cache.make_key)
