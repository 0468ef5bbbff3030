"""A flusher killed mid-flush frees its claim within seconds, and the next flush
writes every entry exactly once."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from conftest import BASE_DIR, database_url_for
from messagelog import selectors, services
from messagelog.models import MessageLog
from messagelog.queue import LEASE_SECONDS
from messagelog.tests.helpers import conversation

ENTRIES = 6000
# Small batches: the flush takes long enough, in many commits, to be killed mid-way.
BATCH_SIZE = 10


def _start_flusher(tmp_path) -> subprocess.Popen:
    from django.db import connection

    env = {
        **os.environ,
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "MESSAGE_BATCH_SIZE": str(BATCH_SIZE),
        "MESSAGE_MAX_QUEUE_SIZE": str(ENTRIES),
        "DEBUG": "false",
    }
    log = (tmp_path / "flusher.log").open("w")
    command = [sys.executable, "manage.py", "flush_message_log"]
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=log)


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_killed_flusher_is_taken_over_within_seconds_and_nothing_is_stored_twice(queue, tmp_path):
    entries = [services._entry(conversation(text=str(n))) for n in range(ENTRIES)]
    raws = [json.dumps(entry).encode() for entry in entries]
    for start in range(0, ENTRIES, 1000):
        queue.push(raws[start : start + 1000], max_size=ENTRIES)

    flusher = _start_flusher(tmp_path)
    deadline = time.monotonic() + 60
    while not MessageLog.objects.exists() and flusher.poll() is None:
        assert time.monotonic() < deadline, (tmp_path / "flusher.log").read_text()
        time.sleep(0.01)
    flusher.send_signal(signal.SIGKILL)
    flusher.wait()
    killed_at = time.monotonic()
    stored_by_the_dead = MessageLog.objects.count()

    assert 0 < stored_by_the_dead < ENTRIES  # it died mid-way
    assert services.flush(actor=None) == 0  # its claim still stands, for a moment
    taken_over = 0
    while not taken_over and time.monotonic() - killed_at < LEASE_SECONDS + 5:
        time.sleep(0.1)
        taken_over = services.flush(actor=None, max_rows=1)  # the first batch, at once
    waited = time.monotonic() - killed_at

    assert taken_over, "no flush took over"
    assert waited < LEASE_SECONDS + 1, waited
    while selectors.queue_depth()["queued"] or selectors.queue_depth()["inflight"]:
        services.flush(actor=None)
    stored = set(MessageLog.objects.values_list("id", flat=True))
    assert MessageLog.objects.count() == ENTRIES
    assert stored == {uuid.UUID(entry["id"]) for entry in entries}
    assert selectors.queue_depth() == {"queued": 0, "inflight": 0, "dead": 0}
