"""A per-process copy of the hot authentication cache keys, kept true by Redis itself.

Every authenticated request reads the same few cache keys: an API key's or login
session's state, its "used recently" marker and the cached user. Read from Redis,
that is one round trip per request; here a process keeps copies of those keys and
Redis tells it the moment one changes. Redis stays the only truth.

How Redis tells: one connection per process subscribes to Redis's own
invalidation channel with client-side caching in broadcast mode (`CLIENT TRACKING
… BCAST PREFIX …`), so Redis sends the name of every key under `MIRRORED` that any
client writes or deletes, and of every such key that expires or is evicted. A read
first applies every invalidation already received, then answers from the copies.
Redis writes a key's invalidation out in the same pass of its event loop as the
reply confirming the write that caused it, so by the time anyone learns that a
revocation succeeded, its invalidation is already in every process's socket (on
one host; across hosts, one network hop away).

When the invalidation connection is down, or has not answered a PING for
`_LIVENESS_SECONDS`, the copies are dropped and reads go to Redis as if there
were no mirror, until the connection is back. A copy also lives at most
CACHE_MIRROR_SECONDS, so the "used recently" markers lapse on time. Without
Redis, or with CACHE_MIRROR_SECONDS=0, `get_many` is `cache.get_many`.
"""

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches

logger = structlog.get_logger(__name__)

# The cache key prefixes that are mirrored (made into Redis key prefixes with the
# cache's KEY_PREFIX and version). They must not overlap: Redis refuses that.
# apikeys.services: "apikey:…" and "apikey-used:…"; accounts.request_auth and
# accounts.sessions: "auth-user:…", "login-session:…" and "login-session-seen:…".
MIRRORED = ("apikey", "auth-user:", "login-session")

_INVALIDATION_CHANNEL = "__redis__:invalidate"
_PING_SECONDS = 1.0
_LIVENESS_SECONDS = 3.0  # no answer for this long: the copies are not trusted
_POLL_SECONDS = 0.1  # how often the thread reads invalidations and checks liveness
_RECONNECT_SECONDS = (1.0, 60.0)  # first and longest wait before connecting again
_MAX_COPIES = 10_000


@dataclass
class _Copy:
    raw: bytes
    expires_at: float


@dataclass
class _State:
    copies: dict[str, _Copy] = field(default_factory=dict)
    # Bumped by every invalidation: a read that began before one stores nothing.
    generation: int = 0
    live_until: float = 0.0
    connection: Any = None
    last_ping_at: float = 0.0


class CacheMirror:
    """The copies, the invalidation connection, and the thread that keeps it alive."""

    def __init__(self, *, redis_url: str, prefixes: tuple[str, ...]) -> None:
        self._redis_url = redis_url
        self._prefixes = prefixes
        self._lock = threading.Lock()
        self._state = _State()
        self._thread: threading.Thread | None = None

    # -- reads -----------------------------------------------------------------

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        """Like `cache.get_many`, answering mirrored keys from this process when it can."""
        self._ensure_thread()
        backend = caches[DEFAULT_CACHE_ALIAS]  # one lookup of this thread's cache
        made = {key: backend.make_key(key) for key in keys}
        found: dict[str, Any] = {}
        now = time.monotonic()
        with self._lock:
            live = self._apply_invalidations(now)
            generation = self._state.generation
            if live:
                for key, redis_key in made.items():
                    copy = self._state.copies.get(redis_key)
                    if copy is not None and copy.expires_at > now:
                        found[key] = copy.raw
        missing = [key for key in keys if key not in found]
        fetched = backend.get_many(missing) if missing else {}
        if fetched and live:
            self._keep(backend, fetched, made, generation, now)
        # A new object for every read, as from Redis: callers may change what they get.
        decode = backend.client.decode
        result = {key: decode(raw) for key, raw in found.items()}
        result.update(fetched)
        return result

    def _keep(self, backend, fetched: dict, made: dict, generation: int, now: float) -> None:
        """Store what Redis answered, unless an invalidation came in meanwhile."""
        prefixes, expires_at = self._redis_prefixes(), now + settings.CACHE_MIRROR_SECONDS
        copies = {
            made[key]: _Copy(backend.client.encode(value), expires_at)
            for key, value in fetched.items()
            if made[key].startswith(prefixes)
        }
        if not copies:
            return
        with self._lock:
            if not self._apply_invalidations(time.monotonic()):
                return
            if self._state.generation != generation:
                return
            if len(self._state.copies) + len(copies) > _MAX_COPIES:
                self._state.copies.clear()
            self._state.copies.update(copies)

    def _redis_prefixes(self) -> tuple[str, ...]:
        return tuple(cache.make_key(prefix) for prefix in self._prefixes)

    # -- invalidations (lock held) -----------------------------------------------

    def _apply_invalidations(self, now: float) -> bool:
        """Apply every invalidation received so far; False when the copies are not trusted."""
        state = self._state
        if state.connection is None or now >= state.live_until:
            return False
        try:
            while state.connection.can_read(timeout=0):
                self._handle(state.connection.read_response())
        except Exception:
            logger.warning("cache_mirror_connection_lost", exc_info=True)
            self._forget_connection()
            return False
        return True

    def _handle(self, message) -> None:
        state = self._state
        state.live_until = time.monotonic() + _LIVENESS_SECONDS
        kind = message[0]
        if kind == b"message":
            state.generation += 1
            keys = message[2]
            if keys is None:  # FLUSHDB / FLUSHALL: everything is invalid
                state.copies.clear()
            else:
                for key in keys:
                    state.copies.pop(key.decode(), None)

    def _forget_connection(self) -> None:
        state = self._state
        if state.connection is not None:
            state.connection.disconnect()
        state.connection = None
        state.copies.clear()
        state.generation += 1
        state.live_until = 0.0

    # -- the thread ------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="cache-mirror", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        first, longest = _RECONNECT_SECONDS
        wait = first
        while True:
            try:
                self._connect()
                wait = first
                self._keep_alive()
            except Exception as exc:  # noqa: BLE001 - the thread must outlive Redis going away
                logger.warning("cache_mirror_unavailable", error=repr(exc), retry_in=wait)
            with self._lock:
                self._forget_connection()
            time.sleep(wait)
            wait = min(wait * 2, longest)

    def _connect(self) -> None:
        import redis

        pool = redis.ConnectionPool.from_url(
            self._redis_url, protocol=2, socket_timeout=2, socket_connect_timeout=2
        )
        connection = pool.make_connection()
        connection.connect()
        client_id = _command(connection, "CLIENT", "ID")
        prefixes = [part for prefix in self._redis_prefixes() for part in ("PREFIX", prefix)]
        _command(connection, "CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST", *prefixes)
        _command(connection, "SUBSCRIBE", _INVALIDATION_CHANNEL)
        with self._lock:
            self._state.copies.clear()
            self._state.generation += 1
            self._state.connection = connection
            self._state.live_until = time.monotonic() + _LIVENESS_SECONDS
            self._state.last_ping_at = time.monotonic()

    def _keep_alive(self) -> None:
        """Read invalidations as they come and PING, until the connection fails."""
        while True:
            time.sleep(_POLL_SECONDS)
            with self._lock:
                state = self._state
                now = time.monotonic()
                if not self._apply_invalidations(now):
                    return
                if now - state.last_ping_at >= _PING_SECONDS:
                    state.connection.send_command("PING")
                    state.last_ping_at = now

    def is_live(self) -> bool:
        """Whether reads are answered from copies now (the invalidations are flowing)."""
        with self._lock:
            return self._apply_invalidations(time.monotonic())


def _command(connection, *args):
    connection.send_command(*args)
    answer = connection.read_response()
    if isinstance(answer, Exception):
        raise answer
    return answer


_mirrors: dict[int, CacheMirror] = {}
_mirrors_lock = threading.Lock()


def mirror() -> CacheMirror | None:
    """This process's mirror (a forked child makes its own); None when it is off
    (no Redis, or CACHE_MIRROR_SECONDS=0)."""
    if not settings.REDIS_URL or settings.CACHE_MIRROR_SECONDS <= 0:
        return None
    pid = os.getpid()
    found = _mirrors.get(pid)
    if found is None:
        with _mirrors_lock:
            found = _mirrors.setdefault(
                pid,
                CacheMirror(redis_url=settings.REDIS_URL, prefixes=MIRRORED),
            )
    return found


def get_many(keys: list[str]) -> dict[str, Any]:
    """`cache.get_many` for keys under `MIRRORED`, without a round trip when warm."""
    this_process = mirror()
    if this_process is None:
        return cache.get_many(keys)
    return this_process.get_many(keys)


def _forget_the_parents_mirror() -> None:
    """In a forked child: the parent's connection, thread and locks are not this process's."""
    global _mirrors_lock
    _mirrors.clear()
    _mirrors_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_the_parents_mirror)
