"""The conversation log: enqueue without waiting, flush in batches, lose nothing."""

import json
import threading
import uuid

import pytest
import redis
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from accounts.tests.factories import UserFactory
from messagelog import selectors, services, store
from messagelog.models import MessageLog
from messagelog.queue import MessageQueue
from messagelog.tests.factories import MessageLogFactory
from messagelog.tests.helpers import conversation


def test_enqueue_touches_no_table_until_the_flush(queue, django_assert_num_queries):
    with django_assert_num_queries(0):
        services.enqueue(conversation(text="first"))
        services.enqueue(conversation(text="second"))

    assert not MessageLog.objects.exists()
    assert selectors.queue_depth() == {"queued": 2, "inflight": 0, "dead": 0}

    assert services.flush(actor=None) == 2

    rows = list(MessageLog.objects.order_by("timestamp"))
    assert [row.messages["request"][0]["content"] for row in rows] == ["first", "second"]
    assert rows[0].messages["response"] == {"role": "assistant", "content": "Echo: first"}
    assert (rows[0].user_id, rows[0].username, rows[0].ip_address) == (1, "user1", "192.0.2.7")
    assert (rows[0].r_type, rows[0].tokens_used, rows[0].processing_time_ms) == ("bpe", 4, 2)
    assert selectors.queue_depth() == {"queued": 0, "inflight": 0, "dead": 0}


def test_ids_and_timestamps_are_made_at_enqueue(queue):
    before = timezone.now()
    services.enqueue(conversation())
    after = timezone.now()
    with queue.exclusive() as lease:
        entry = json.loads(queue.claim(1, lease=lease)[0])

    services.flush(actor=None)

    row = MessageLog.objects.get()
    assert row.pk == uuid.UUID(entry["id"])
    assert before <= row.timestamp <= after


def test_a_full_batch_flushes_itself(queue, batches):
    services.enqueue(conversation(text="one"))
    services.enqueue(conversation(text="two"))
    assert not MessageLog.objects.exists()

    services.enqueue(conversation(text="three"))  # the batch is full: the flush runs inline

    assert MessageLog.objects.count() == 3
    assert selectors.queue_depth()["queued"] == 0


def test_flush_writes_in_batches_of_the_configured_size(queue, batches):
    with queue.exclusive():  # hold off the automatic flushes while filling the queue
        for index in range(5):
            services.enqueue(conversation(text=str(index)))

    assert services.flush(actor=None, max_rows=3) == 3
    assert MessageLog.objects.count() == 3
    assert services.flush(actor=None) == 2
    assert MessageLog.objects.count() == 5


def test_a_batch_left_in_flight_by_a_dead_flusher_is_written_exactly_once(queue, batches):
    with queue.exclusive():
        for index in range(5):
            services.enqueue(conversation(text=str(index)))
    # A flusher claimed a batch, committed its rows, and died before confirming it.
    with queue.exclusive() as lease:
        claimed = queue.claim(3, lease=lease)
    MessageLog.objects.bulk_create(MessageLog(**store.decode(raw)) for raw in claimed)

    assert services.flush(actor=None) == 5

    contents = sorted(row.messages["request"][0]["content"] for row in MessageLog.objects.all())
    assert contents == ["0", "1", "2", "3", "4"]
    assert selectors.queue_depth() == {"queued": 0, "inflight": 0, "dead": 0}


def test_a_second_flusher_leaves_the_work_to_the_first(queue):
    services.enqueue(conversation())

    with queue.exclusive() as lock:
        assert lock is not None
        assert services.flush(actor=None) == 0

    assert not MessageLog.objects.exists()
    assert services.flush(actor=None) == 1


def test_a_full_queue_writes_directly_and_loses_nothing(queue, batches):
    with queue.exclusive():  # the flusher is stuck: nothing drains the queue
        for index in range(8):
            services.enqueue(conversation(text=str(index)))
        assert selectors.queue_depth()["queued"] == 6
        assert MessageLog.objects.count() == 2  # the two that found the queue full

    services.flush(actor=None)

    contents = [row.messages["request"][0]["content"] for row in MessageLog.objects.all()]
    assert sorted(map(int, contents)) == list(range(8))


def test_without_redis_the_conversation_is_written_directly(db, monkeypatch):
    unreachable = MessageQueue(
        redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2), cache.make_key
    )
    monkeypatch.setattr(services, "message_queue", lambda: unreachable)

    services.enqueue(conversation(text="kept"))

    assert MessageLog.objects.get().messages["request"][0]["content"] == "kept"


def test_entries_that_can_never_be_written_are_set_aside_not_retried_forever(queue):
    services.enqueue(conversation(text="good"))
    queue.push([b"not json"], max_size=100)
    orphan = {**services._entry(conversation(text="orphan")), "user_id": None}
    queue.push([json.dumps(orphan).encode()], max_size=100)
    services.enqueue(conversation(text="also good"))

    assert services.flush(actor=None) == 4

    assert sorted(row.messages["request"][0]["content"] for row in MessageLog.objects.all()) == [
        "also good",
        "good",
    ]
    assert selectors.queue_depth() == {"queued": 0, "inflight": 0, "dead": 2}


def test_conversations_of_an_account_erased_while_queued_stay_anonymous(queue):
    user = UserFactory(purged_at=timezone.now())
    services.enqueue(conversation(user_id=user.pk, text="my address is ..."))

    services.flush(actor=None)

    row = MessageLog.objects.get(user_id=user.pk)
    assert (row.username, row.email, row.ip_address, row.messages) == (
        "",
        "",
        None,
        {"redacted": True},
    )
    assert row.tokens_used == 4


@pytest.mark.django_db(transaction=True)
def test_concurrent_enqueues_and_flushes_store_each_conversation_once(queue, batches):
    writers, per_writer = 6, 20

    def write(writer: int) -> None:
        try:
            for index in range(per_writer):
                services.enqueue(conversation(user_id=writer, text=f"{writer}-{index}"))
                if index % 7 == 0:
                    services.flush(actor=None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    services.flush(actor=None)

    assert MessageLog.objects.count() == writers * per_writer
    assert MessageLog.objects.values("messages").distinct().count() == writers * per_writer


def test_erasure_strips_the_person_and_keeps_the_counts(db):
    erased = MessageLogFactory(user_id=7, ip_address="192.0.2.7")
    kept = MessageLogFactory(user_id=8)

    assert services.redact_users([7]) == 1

    erased.refresh_from_db()
    kept.refresh_from_db()
    assert (erased.username, erased.email, erased.ip_address) == ("", "", None)
    assert erased.messages == {"redacted": True} and erased.tokens_used == 4
    assert kept.username == "user8"
