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
reply confirming the write that caused it (normally before it), so by the time
anyone learns that a revocation succeeded, its invalidation is in every process's
socket on the same host, or one network hop away on another.

The connection goes live only once Redis has delivered the invalidation of a
canary key written through the cache, so a proxy that accepts the commands but
delivers nothing leaves the copies off. When the connection drops, says anything
unexpected, or has not answered a PING for `_LIVENESS_SECONDS`, the copies are
dropped and reads go to Redis as if there were no mirror, until it is back. A copy
lives at most CACHE_MIRROR_SECONDS and never past its key's own expiry in Redis.
Without Redis, or with CACHE_MIRROR_SECONDS=0, `get_many` is `cache.get_many`.
"""

import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import redis
import structlog
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from redis.exceptions import RedisError

logger = structlog.get_logger(__name__)

# The cache key prefixes that are mirrored (made into Redis key prefixes with the
# cache's KEY_PREFIX and version). They must not overlap: Redis refuses that.
# apikeys.services: "apikey:…" and "apikey-used:…"; accounts.auth.request_auth and
# accounts.services.sessions: "auth-user:…", "login-session:…" and "login-session-seen:…".
MIRRORED = ("apikey", "auth-user:", "login-session")

_REDIS_CACHE = "django_redis.cache.RedisCache"
_INVALIDATION_CHANNEL = b"__redis__:invalidate"
_PONG = [b"pong", b""]  # the answer to PING on a subscribed RESP2 connection
_PING_SECONDS = 1.0
_LIVENESS_SECONDS = 3.0  # no answer for this long: the copies are not trusted
_POLL_SECONDS = 0.1  # how often the thread reads invalidations and checks liveness
_READ_SECONDS = 0.25  # a message begun but not finished by then: the connection is dropped
_SETUP_SECONDS = 2.0
_RECONNECT_SECONDS = (1.0, 60.0)  # first and longest wait before connecting again
_MAX_COPIES = 10_000


class _Unexpected(ConnectionError):
    """The invalidation connection said something it should not: it is not trusted."""


@dataclass
class _Copy:
    raw: Any  # the value as Redis holds it (django-redis keeps integers as integers)
    expires_at: float


@dataclass(frozen=True)
class _Tracking:
    """A live invalidation connection and the Redis key prefixes it is told about."""

    connection: Any  # redis.connection.Connection, RESP2, subscribed
    client_id: int
    prefixes: tuple[str, ...]


@dataclass
class _State:
    copies: dict[str, _Copy] = field(default_factory=dict)
    # Bumped by every invalidation: a read that began before one stores nothing.
    generation: int = 0
    tracking: _Tracking | None = None
    live_until: float = 0.0
    last_ping_at: float = 0.0


class CacheMirror:
    """The copies, the invalidation connection, and the thread that keeps it alive."""

    def __init__(self, *, redis_url: str, prefixes: tuple[str, ...]) -> None:
        self._redis_url = redis_url
        self._prefixes = prefixes
        self._lock = threading.Lock()
        self._state = _State()
        self._thread: threading.Thread | None = None

    # -- reads ---------------------------------------------------------------------

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        """Like `cache.get_many`, answering mirrored keys from this process when it can."""
        self.start()
        backend = caches[DEFAULT_CACHE_ALIAS]  # one lookup of this thread's cache
        made = {key: backend.make_key(key) for key in keys}
        found: dict[str, Any] = {}
        with self._lock:
            now = time.monotonic()
            tracking = self._trusted_tracking(now)
            generation = self._state.generation
            if tracking is not None:
                for key, redis_key in made.items():
                    copy = self._state.copies.get(redis_key)
                    if copy is not None and copy.expires_at > now:
                        found[key] = copy.raw
        missing = [key for key in keys if key not in found]
        fetched = backend.get_many(missing) if missing else {}
        if fetched and tracking is not None:
            self._keep(backend, tracking, generation, {made[k]: v for k, v in fetched.items()})
        # A new object for every read, as from Redis: callers may change what they get.
        decode = backend.client.decode
        result = {key: decode(raw) for key, raw in found.items()}
        result.update(fetched)
        return result

    def _keep(self, backend, tracking: _Tracking, generation: int, fetched: dict) -> None:
        """Store what Redis answered, unless an invalidation came in meanwhile.

        Each copy expires with its key: Redis sends an expired key's invalidation
        only when it gets round to deleting it, which can be later.
        """
        wanted = [key for key in fetched if key.startswith(tracking.prefixes)]
        if not wanted:
            return
        asked_at = time.monotonic()
        remaining = _remaining_ms(backend, wanted)
        if remaining is None:
            return
        copies = {}
        for key, milliseconds in zip(wanted, remaining, strict=True):
            if milliseconds == -2:  # gone already
                continue
            life = settings.CACHE_MIRROR_SECONDS
            if milliseconds >= 0:
                life = min(life, milliseconds / 1000)
            copies[key] = _Copy(backend.client.encode(fetched[key]), asked_at + life)
        with self._lock:
            if self._trusted_tracking(time.monotonic()) is not tracking:
                return
            if self._state.generation != generation:
                return
            if len(self._state.copies) + len(copies) > _MAX_COPIES:
                self._state.copies.clear()
            self._state.copies.update(copies)

    # -- invalidations (lock held) ---------------------------------------------------

    def _trusted_tracking(self, now: float) -> _Tracking | None:
        """Apply every invalidation received so far; None when the copies are not trusted."""
        state = self._state
        tracking = state.tracking
        if tracking is None or now >= state.live_until:
            return None
        connection = tracking.connection
        try:
            # redis-py would silently reconnect a closed connection, untracked.
            if not connection.is_connected:
                raise _Unexpected("the invalidation connection was closed")
            while connection.can_read(timeout=0):
                self._handle(connection.read_response(timeout=_READ_SECONDS))
        except BaseException as exc:
            self._forget_tracking()
            if not isinstance(exc, Exception):
                raise
            logger.warning("cache_mirror_connection_lost", error=repr(exc))
            return None
        return tracking

    def _handle(self, message) -> None:
        state = self._state
        if message == _PONG:
            pass
        elif (
            isinstance(message, list)
            and len(message) == 3
            and message[:2] == [b"message", _INVALIDATION_CHANNEL]
        ):
            state.generation += 1
            keys = message[2]
            if keys is None:  # FLUSHDB / FLUSHALL: everything is invalid
                state.copies.clear()
            else:
                for key in keys:
                    state.copies.pop(key.decode(), None)
        else:
            raise _Unexpected(f"unexpected message on the invalidation connection: {message!r}")
        state.live_until = time.monotonic() + _LIVENESS_SECONDS

    def _forget_tracking(self) -> None:
        state = self._state
        if state.tracking is not None:
            state.tracking.connection.disconnect()
        state.tracking = None
        state.copies.clear()
        state.generation += 1
        state.live_until = 0.0

    # -- the thread --------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread that connects and keeps the invalidations flowing."""
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
                self._forget_tracking()
            time.sleep(wait)
            wait = min(wait * 2, longest)

    def _connect(self) -> None:
        pool = redis.ConnectionPool.from_url(
            self._redis_url,
            protocol=2,
            socket_timeout=_SETUP_SECONDS,
            socket_connect_timeout=_SETUP_SECONDS,
        )
        connection = pool.make_connection()
        try:
            connection.connect()
            client_id = _command(connection, "CLIENT", "ID")
            prefixes = tuple(cache.make_key(prefix) for prefix in self._prefixes)
            tracked = [part for prefix in prefixes for part in ("PREFIX", prefix)]
            _command(
                connection, "CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST", *tracked
            )
            _command(connection, "SUBSCRIBE", _INVALIDATION_CHANNEL)
            _await_canary(connection, f"{prefixes[0]}-mirror-canary:{uuid.uuid4().hex}")
        except BaseException:
            connection.disconnect()
            raise
        with self._lock:
            self._forget_tracking()
            now = time.monotonic()
            self._state.tracking = _Tracking(connection, client_id, prefixes)
            self._state.last_ping_at = now
            self._state.live_until = now + _LIVENESS_SECONDS

    def _keep_alive(self) -> None:
        """Read invalidations as they come and PING, until the connection fails."""
        while True:
            time.sleep(_POLL_SECONDS)
            with self._lock:
                state = self._state
                now = time.monotonic()
                tracking = self._trusted_tracking(now)
                if tracking is None:
                    if state.tracking is not None:
                        logger.warning("cache_mirror_connection_silent", seconds=_LIVENESS_SECONDS)
                    return
                if now - state.last_ping_at >= _PING_SECONDS:
                    try:
                        tracking.connection.send_command("PING")
                    except BaseException:
                        self._forget_tracking()
                        raise
                    state.last_ping_at = now

    def is_live(self) -> bool:
        """Whether reads are answered from copies now (the invalidations are flowing)."""
        with self._lock:
            return self._trusted_tracking(time.monotonic()) is not None

    def client_id(self) -> int | None:
        """The Redis client id of the invalidation connection (as `CLIENT LIST` shows it)."""
        with self._lock:
            tracking = self._state.tracking
            return tracking.client_id if tracking is not None else None


def _remaining_ms(backend, keys: list[str]) -> list[int] | None:
    """Each key's remaining life in Redis (PTTL: -1 none, -2 gone), in one round trip."""
    pipeline = backend.client.get_client(write=False).pipeline(transaction=False)
    for key in keys:
        pipeline.pttl(key)
    try:
        return pipeline.execute()
    except RedisError:
        return None


def _command(connection, *args):
    connection.send_command(*args)
    answer = connection.read_response()
    if isinstance(answer, Exception):
        raise answer
    return answer


def _await_canary(connection, key: str) -> None:
    """Write a key under a mirrored prefix through the cache and wait for Redis to
    say it changed: proof that invalidations are delivered, not only accepted."""
    caches[DEFAULT_CACHE_ALIAS].client.get_client(write=True).set(key, 1, px=10_000)
    deadline = time.monotonic() + _SETUP_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        if not connection.can_read(timeout=left):
            break
        message = connection.read_response()
        if isinstance(message, list) and len(message) == 3 and key.encode() in (message[2] or []):
            return
    raise _Unexpected("Redis accepted CLIENT TRACKING but delivered no invalidation")


_mirrors: dict[tuple[int, str], CacheMirror] = {}  # by process and Redis URL
_mirrors_lock = threading.Lock()


def _redis_location() -> str | None:
    """The URL of the default cache's Redis (its first server), or None without one."""
    config = settings.CACHES[DEFAULT_CACHE_ALIAS]
    if config["BACKEND"] != _REDIS_CACHE:
        return None
    location = config["LOCATION"]
    if isinstance(location, str):
        location = location.split(",")
    return location[0].strip()


def mirror() -> CacheMirror | None:
    """This process's mirror (a forked child makes its own); None when it is off
    (no Redis cache, or CACHE_MIRROR_SECONDS=0)."""
    location = _redis_location()
    if location is None or settings.CACHE_MIRROR_SECONDS <= 0:
        return None
    which = (os.getpid(), location)
    found = _mirrors.get(which)
    if found is None:
        with _mirrors_lock:
            found = _mirrors.setdefault(which, CacheMirror(redis_url=location, prefixes=MIRRORED))
    return found


def status() -> dict[str, bool]:
    """For the detailed health check: are copies on, and trusted in this process now?"""
    this_process = mirror()
    if this_process is None:
        return {"enabled": False, "live": False}
    this_process.start()
    return {"enabled": True, "live": this_process.is_live()}


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
