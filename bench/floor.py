"""The round trips a metered request cannot avoid, timed alone on this machine.

A warm metered completion waits on one PostgreSQL round trip (the credit
`UPDATE`, committed). Its key check reads the process's copies of the cache keys
(core.cache_mirror), so the Redis `MGET` it would otherwise make is timed for
reference and counted zero times; its message-log entry is pushed by the relay
thread, one push for all the entries gathered meanwhile, so it is not a round trip
of its own. Timing each one from Python, with the CPU it costs the client and the
server, gives the floor
under the metered figures: the lowest CPU per request and added latency the
design allows here, were everything else the metered path does free.
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from psycopg import sql

from bench import cpu, infra

REDIS_ROUND_TRIPS = 0  # warm: the key check is answered from the process's copies
POSTGRES_ROUND_TRIPS = 1
_SCRATCH_TABLE = "bench_floor_credit"


@dataclass(frozen=True)
class RoundTrip:
    """One kind of round trip: median wall time, and CPU per call of client and server."""

    name: str
    wall_ms: float
    client_cpu_ms: float
    server_cpu_ms: float

    @property
    def cpu_ms(self) -> float:
        return self.client_cpu_ms + self.server_cpu_ms


@dataclass(frozen=True)
class Floor:
    redis: RoundTrip
    postgres: RoundTrip

    @property
    def cpu_ms(self) -> float:
        """CPU the metered path's round trips cost together, per request."""
        return REDIS_ROUND_TRIPS * self.redis.cpu_ms + POSTGRES_ROUND_TRIPS * self.postgres.cpu_ms

    @property
    def wall_ms(self) -> float:
        """Latency the round trips add to one request, one after the other."""
        return REDIS_ROUND_TRIPS * self.redis.wall_ms + POSTGRES_ROUND_TRIPS * self.postgres.wall_ms


def _time(name: str, server_group: str, call: Callable[[], object], samples: int) -> RoundTrip:
    for _ in range(samples // 10):
        call()
    walls = []
    before, cpu_started = cpu.snapshot(), time.process_time()
    for _ in range(samples):
        started = time.perf_counter()
        call()
        walls.append(time.perf_counter() - started)
    client = time.process_time() - cpu_started
    server = cpu.spent(before, cpu.snapshot())[server_group]
    return RoundTrip(
        name=name,
        wall_ms=statistics.median(walls) * 1000,
        client_cpu_ms=client * 1000 / samples,
        server_cpu_ms=server * 1000 / samples,
    )


def measure(database_url: str, redis_url: str, samples: int = 3000) -> Floor:
    """Time a three-key MGET (as the key check) and a conditional, committed UPDATE of
    one row (as the credit consume) from this process, with their servers' CPU."""
    client = infra.redis_client(redis_url)
    client.mset({"floor:a": b"x" * 300, "floor:b": b"1"})
    redis = _time(
        "Redis MGET of 3 keys (redis-py)",
        cpu.REDIS,
        lambda: client.mget(["floor:a", "floor:b", "floor:c"]),
        samples,
    )
    table = sql.Identifier(_SCRATCH_TABLE)
    update = sql.SQL("UPDATE {} SET credits = credits - 1 WHERE id = %s AND credits >= 1").format(
        table
    )
    with infra.connect(database_url) as connection:
        connection.execute(
            sql.SQL("CREATE TABLE {} (id integer PRIMARY KEY, credits bigint NOT NULL)").format(
                table
            )
        )
        connection.execute(sql.SQL("INSERT INTO {} VALUES (1, 1000000000)").format(table))
        postgres = _time(
            "PostgreSQL conditional UPDATE, committed (psycopg)",
            cpu.POSTGRES,
            lambda: connection.execute(update, (1,)),
            samples,
        )
        connection.execute(sql.SQL("DROP TABLE {}").format(table))
    return Floor(redis=redis, postgres=postgres)
