"""A Redis that stops answering costs a request one socket timeout, not one per call.

A request makes several cache calls (authentication, rate limits, the firewall,
the message log), each allowed SOCKET_TIMEOUT. Against a Redis that accepts
connections but never answers, each would wait that long in turn. Every
connection of the cache's pool is a `FailFastConnection`: once a call times out
or cannot connect, the rest of the same request, and every call in this process
for CACHE_OUTAGE_BACKOFF_SECONDS, fail at once with a ConnectionError instead of
waiting. The callers already treat that as Redis being down: reads fall back to
the database, writes that must reach Redis answer 503 CACHE_UNAVAILABLE.
"""

import threading
import time

from django.conf import settings
from django.core.signals import request_finished, request_started
from redis.connection import Connection, SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


Address = tuple[str, int]


class _Breaker:
    """Which Redis servers did not answer: in this request, and lately in this process."""

    def __init__(self) -> None:
        self._open_until: dict[Address, float] = {}
        self._local = threading.local()

    def check(self, address: Address) -> None:
        if address in getattr(self._local, "down_in_request", ()):
            raise RedisConnectionError("Redis did not answer earlier in this request")
        if time.monotonic() < self._open_until.get(address, 0.0):
            raise RedisConnectionError("Redis did not answer recently; not asked again yet")

    def trip(self, address: Address) -> None:
        self._open_until[address] = time.monotonic() + settings.CACHE_OUTAGE_BACKOFF_SECONDS
        if getattr(self._local, "in_request", False):
            self._local.down_in_request.add(address)

    def request_begins(self, **kwargs) -> None:
        self._local.in_request = True
        self._local.down_in_request = set()

    def request_ends(self, **kwargs) -> None:
        self._local.in_request = False
        self._local.down_in_request = set()


breaker = _Breaker()
request_started.connect(breaker.request_begins, dispatch_uid="cache-breaker-begins")
request_finished.connect(breaker.request_ends, dispatch_uid="cache-breaker-ends")


class _FailFast:
    """Mixed into redis-py's connection classes: every way a command reaches the
    socket asks the breaker first, and trips it when the socket fails."""

    def connect(self, *args, **kwargs):
        breaker.check(self._address())
        try:
            return super().connect(*args, **kwargs)
        except _DOWN:
            breaker.trip(self._address())
            raise

    def send_packed_command(self, *args, **kwargs):
        breaker.check(self._address())
        try:
            return super().send_packed_command(*args, **kwargs)
        except _DOWN:
            breaker.trip(self._address())
            raise

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except _DOWN:
            breaker.trip(self._address())
            raise

    def _address(self) -> Address:
        return (self.host, self.port)


class FailFastConnection(_FailFast, Connection):
    pass


class FailFastSSLConnection(_FailFast, SSLConnection):
    pass


def connection_class_for(url: str) -> type[Connection]:
    return FailFastSSLConnection if url.startswith("rediss://") else FailFastConnection
