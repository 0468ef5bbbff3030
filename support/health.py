"""Dependency probes for the health endpoints: each really exercises its dependency
(a query, a cache round trip, a broker connection) and times it."""

import time
import uuid
from dataclasses import dataclass

from celery import current_app as celery_app
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError


@dataclass(frozen=True)
class Check:
    ok: bool
    latency_ms: float
    error: str = ""

    @property
    def state(self) -> str:
        return "connected" if self.ok else "disconnected"

    def as_dict(self, **extra) -> dict:
        body = {"status": self.state, "latency_ms": self.latency_ms, **extra}
        if self.error:
            body["error"] = self.error
        return body


def _timed(probe) -> Check:
    started = time.perf_counter()
    try:
        ok = probe()
        error = "" if ok else "unexpected answer"
    except (DatabaseError, RedisError, OSError) as exc:
        ok, error = False, type(exc).__name__
    return Check(ok=ok, latency_ms=round((time.perf_counter() - started) * 1000, 2), error=error)


def check_database() -> Check:
    def probe() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)

    return _timed(probe)


def check_cache() -> Check:
    def probe() -> bool:
        key, nonce = f"health:{uuid.uuid4().hex}", uuid.uuid4().hex
        cache.set(key, nonce, 10)
        ok = cache.get(key) == nonce
        cache.delete(key)
        return ok

    return _timed(probe)


def check_broker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": "inline", "latency_ms": 0.0}
    started = time.perf_counter()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        state = "connected"
    except (BrokerError, OSError):
        state = "disconnected"
    return {"status": state, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
