"""Two processes, one Redis: a change acknowledged to one is never answered from an
old copy in the other, also when the other's invalidation connection is cut or goes
silent. Everything runs against the real Redis; the second process is a real Python.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from config.tests.settings_probe import BASE_DIR
from core import cache_mirror
from core.tests.test_cache_mirror import wait_until_live

ROUNDS = 300

# The other process: warm copies of a key, a read of it on each line asked.
_OTHER_PROCESS = """
import json, sys, time
import django
django.setup()
from core import cache_mirror
mirror = cache_mirror.mirror()
mirror.start()
deadline = time.monotonic() + 10
while not mirror.is_live():
    assert time.monotonic() < deadline, "no invalidation connection"
    time.sleep(0.05)
print(json.dumps(mirror.client_id()), flush=True)
for line in sys.stdin:
    key = line.strip()
    answer = cache_mirror.get_many([key]).get(key)
    cache_mirror.get_many([key])  # warm again: the next question meets a copy
    print(json.dumps([answer, mirror.client_id(), mirror.is_live()]), flush=True)
"""


class OtherProcess:
    def __init__(self) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _OTHER_PROCESS],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.client_id = json.loads(self.process.stdout.readline())

    def read(self, key: str) -> tuple:
        self.process.stdin.write(key + "\n")
        self.process.stdin.flush()
        return tuple(json.loads(self.process.stdout.readline()))

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture
def other_process(db):
    if not settings.REDIS_URL:
        pytest.skip("the copies are kept true by Redis: run with REDIS_URL (CI does)")
    other = OtherProcess()
    yield other
    other.stop()


def test_every_acknowledged_change_is_read_by_the_other_process(other_process):
    key = "login-session:other-process"
    cache.set(key, -1, 60)
    other_process.read(key)

    answers = []
    for value in range(ROUNDS):
        cache.set(key, value, 60)  # acknowledged by Redis when this returns
        answers.append(other_process.read(key)[0])

    assert answers == list(range(ROUNDS))
    assert other_process.read(key)[2], "the other process read from Redis, not its copies"


def test_a_cut_connection_in_the_other_process_never_serves_an_old_copy(other_process):
    key = "apikey:cut"
    cache.set(key, "active", 60)
    other_process.read(key)
    admin = redis.Redis.from_url(settings.REDIS_URL)

    killed = admin.client_kill_filter(_id=other_process.client_id)
    cache.set(key, "revoked", 60)  # no invalidation can reach the cut connection

    assert killed == 1
    assert other_process.read(key)[0] == "revoked"
    deadline = time.monotonic() + 10
    while (answer := other_process.read(key))[1] in (None, other_process.client_id):
        assert answer[0] == "revoked"
        assert time.monotonic() < deadline, "the invalidation connection did not come back"
        time.sleep(0.05)
    cache.set(key, "active again", 60)
    assert other_process.read(key)[0] == "active again"


class SilenceableProxy:
    """A TCP relay to Redis that can go silent: it holds every byte and closes nothing,
    as a lost route or a hung middlebox does."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.silent = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.silent.is_set():
                    time.sleep(0.01)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            source.close()
            sink.close()

    def close(self) -> None:
        self.silent.clear()
        self._listener.close()


def test_a_silent_connection_stops_the_copies_within_the_liveness_bound(db):
    if not settings.REDIS_URL:
        pytest.skip("the copies are kept true by Redis: run with REDIS_URL (CI does)")
    parts = urlsplit(settings.REDIS_URL)
    proxy = SilenceableProxy((parts.hostname, parts.port or 6379))
    through_proxy = urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))
    mirror = cache_mirror.CacheMirror(redis_url=through_proxy, prefixes=cache_mirror.MIRRORED)
    mirror.start()
    wait_until_live(mirror)
    key = "auth-user:silenced"
    cache.set(key, "before", 60)
    mirror.get_many([key])

    bound = cache_mirror._LIVENESS_SECONDS + cache_mirror._POLL_SECONDS + 0.5
    try:
        proxy.silent.set()
        silenced_at = time.monotonic()
        cache.set(key, "after", 60)  # the invalidation waits in the silent relay
        while mirror.get_many([key]) != {key: "after"}:
            assert time.monotonic() - silenced_at <= bound, "an old copy outlived the bound"
            time.sleep(0.05)
        assert not mirror.is_live()
    finally:
        proxy.close()
