"""The per-process copies of the authentication cache keys never outlive a change in Redis.

Every test runs against the real Redis: writes come from the cache's own pool (to
Redis another client), invalidations through the mirror's own connection.
"""

import threading
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from core import cache_mirror

WAIT_SECONDS = 10


@pytest.fixture
def mirror(db):
    if not settings.REDIS_URL:
        pytest.skip("the copies are kept true by Redis: run with REDIS_URL (CI does)")
    this_process = cache_mirror.mirror()
    this_process.get_many([])  # starts the thread
    wait_until_live(this_process)
    return this_process


@pytest.fixture
def mgets_naming():
    """`mgets_naming(key)` counts from then on the MGETs that name the key, whichever
    client sends them, as Redis's MONITOR reports them (the server's command statistics
    would also count every other run sharing the Redis)."""
    counters = []

    def start(key: str) -> MgetCounter:
        counters.append(MgetCounter(key))
        return counters[-1]

    yield start
    for counter in counters:
        counter.close()


class MgetCounter:
    def __init__(self, key: str) -> None:
        self._key = cache.make_key(key)
        self._client = redis.Redis.from_url(settings.REDIS_URL)
        self._monitor = self._client.monitor().__enter__()
        self._seen = 0

    def count(self) -> int:
        marker = f"mirror-count-{uuid.uuid4().hex}"
        self._client.echo(marker)
        while marker not in (command := self._monitor.next_command()["command"]):
            if command.startswith("MGET ") and self._key in command.split(" ")[1:]:
                self._seen += 1
        return self._seen

    def close(self) -> None:
        self._monitor.__exit__()
        self._client.close()


def test_a_warm_read_is_answered_without_a_round_trip(mirror, mgets_naming):
    cache.set("auth-user:warm", {"name": "Ada"}, 60)
    first = cache_mirror.get_many(["auth-user:warm"])
    reads = mgets_naming("auth-user:warm")

    warm = [cache_mirror.get_many(["auth-user:warm"]) for _ in range(20)]

    assert reads.count() == 0
    assert first == {"auth-user:warm": {"name": "Ada"}}
    assert warm == [first] * 20
    assert warm[0]["auth-user:warm"] is not warm[1]["auth-user:warm"]  # a new object each time


def test_keys_outside_the_mirrored_prefixes_are_read_from_redis_every_time(mirror, mgets_naming):
    cache.set("firewall-block:10.0.0.1", 1, 60)
    cache_mirror.get_many(["firewall-block:10.0.0.1"])
    reads = mgets_naming("firewall-block:10.0.0.1")

    for _ in range(5):
        cache_mirror.get_many(["firewall-block:10.0.0.1"])

    assert reads.count() == 5


def test_a_change_is_seen_by_the_very_next_read(mirror):
    key = "login-session:change"
    cache.set(key, "active", 60)
    seen = []
    for value in range(50):
        cache_mirror.get_many([key])  # warm, so the next read would use the copy
        cache.set(key, f"state {value}", 60)
        seen.append(cache_mirror.get_many([key])[key])

    assert seen == [f"state {value}" for value in range(50)]


def test_a_deleted_key_is_not_answered_from_its_copy(mirror):
    cache.set("apikey:deleted", {"key_id": 1}, 60)
    cache_mirror.get_many(["apikey:deleted"])

    cache.delete("apikey:deleted")

    assert cache_mirror.get_many(["apikey:deleted"]) == {}


def test_a_copy_lives_at_most_cache_mirror_seconds(mirror, settings, mgets_naming):
    settings.CACHE_MIRROR_SECONDS = 0.2
    cache.set("apikey-used:aged", 1, 60)
    cache_mirror.get_many(["apikey-used:aged"])
    time.sleep(0.3)
    reads = mgets_naming("apikey-used:aged")

    assert cache_mirror.get_many(["apikey-used:aged"]) == {"apikey-used:aged": 1}
    assert reads.count() == 1


@pytest.fixture
def slow_expiry():
    """Many other keys with a time to live, as on a busy Redis: its background expiry
    samples them at random, so it deletes (and invalidates) an expired key late."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    names = [f"{cache.make_key('mirror-ballast')}:{i}" for i in range(20_000)]
    pipeline = client.pipeline(transaction=False)
    for name in names:
        pipeline.set(name, 1, px=120_000)
    pipeline.execute()
    yield
    for first in range(0, len(names), 1000):
        client.delete(*names[first : first + 1000])


def test_a_copy_never_outlives_its_key_in_redis(mirror, slow_expiry):
    cache.set("login-session:expiring", "active", 0.3)
    first = cache_mirror.get_many(["login-session:expiring"])

    time.sleep(0.4)

    assert first == {"login-session:expiring": "active"}
    assert cache_mirror.get_many(["login-session:expiring"]) == {}


def test_reads_racing_writes_end_on_the_last_write(mirror):
    """A read that fetched the old value while a write landed must not keep it."""
    key = "auth-user:raced"
    cache.set(key, 0, 60)
    stop = threading.Event()
    failures: list[BaseException] = []

    def read_continuously() -> None:
        try:
            while not stop.is_set():
                cache_mirror.get_many([key])
        except BaseException as exc:  # noqa: BLE001 - reported below, not lost in the thread
            failures.append(exc)

    readers = [threading.Thread(target=read_continuously) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for value in range(1, 301):
            cache.set(key, value, 60)
            assert cache_mirror.get_many([key])[key] == value
    finally:
        stop.set()
        for reader in readers:
            reader.join(WAIT_SECONDS)

    assert failures == []
    assert cache_mirror.get_many([key])[key] == 300


def wait_until_live(mirror) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not mirror.is_live():
        assert time.monotonic() < deadline, "the invalidation connection did not come back"
        time.sleep(0.05)


def test_a_lost_invalidation_connection_sends_reads_to_redis_until_it_is_back(mirror):
    key = "auth-user:lost"
    cache.set(key, "before", 60)
    cache_mirror.get_many([key])
    admin = redis.Redis.from_url(settings.REDIS_URL)
    killed = admin.client_kill_filter(_id=mirror.client_id())

    cache.set(key, "after", 60)  # no invalidation can reach the dead connection

    assert killed == 1
    assert cache_mirror.get_many([key]) == {key: "after"}
    wait_until_live(mirror)
    assert cache_mirror.get_many([key]) == {key: "after"}  # the old copy went with it
    cache.set(key, "again", 60)
    assert cache_mirror.get_many([key]) == {key: "again"}


def test_without_the_mirror_every_read_goes_to_redis(db, settings, mgets_naming):
    if not settings.REDIS_URL:
        pytest.skip("the copies are kept true by Redis: run with REDIS_URL (CI does)")
    settings.CACHE_MIRROR_SECONDS = 0
    cache.set("auth-user:off", "x", 60)
    reads = mgets_naming("auth-user:off")

    for _ in range(3):
        assert cache_mirror.get_many(["auth-user:off"]) == {"auth-user:off": "x"}

    assert cache_mirror.mirror() is None
    assert reads.count() == 3
