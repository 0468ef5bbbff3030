"""The relay between request threads and the Redis queue: no request waits on a push."""

import json
import os
import threading

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from messagelog import relay as relay_module
from messagelog import selectors, services
from messagelog.models import MessageLog
from messagelog.relay import Relay, relay_for
from messagelog.tests.helpers import conversation

WAIT = 10


class Deliveries:
    """A delivery callback that records its batches and can be held shut."""

    def __init__(self, *, failures: int = 0, hold_only_the_first: bool = False) -> None:
        self.hold_only_the_first = hold_only_the_first
        self.batches: list[list[bytes]] = []
        self.threads: list[str] = []
        self.open = threading.Event()
        self.open.set()
        self.started = threading.Event()
        self.failures = failures
        self.delivered = threading.Condition()

    def __call__(self, batch: list[bytes]) -> None:
        first = not self.started.is_set()
        self.started.set()
        if first or not self.hold_only_the_first:
            self.open.wait(WAIT)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the queue is unreachable")
        with self.delivered:
            self.batches.append(batch)
            self.threads.append(threading.current_thread().name)
            self.delivered.notify_all()

    def wait_for(self, count: int) -> list[bytes]:
        with self.delivered:
            self.delivered.wait_for(lambda: len(self.entries()) >= count, WAIT)
        return self.entries()

    def entries(self) -> list[bytes]:
        return [entry for batch in self.batches for entry in batch]


def relay_with(deliveries: Deliveries, gather: float = 0.0) -> Relay:
    return Relay(deliveries, gather_seconds=lambda: gather, around_thread_delivery=lambda: None)


def relay_with_a_stuck_delivery(
    deliveries: Deliveries, first: bytes, *, capacity: int = 10
) -> Relay:
    """A relay whose thread is inside `deliver` with `first` until `deliveries.open`."""
    deliveries.open.clear()
    relay = relay_with(deliveries)
    assert relay.offer(first, capacity=capacity)
    assert deliveries.started.wait(WAIT)
    return relay


def test_an_offer_returns_while_the_delivery_is_still_blocked():
    deliveries = Deliveries()
    relay = relay_with_a_stuck_delivery(deliveries, b"first")

    assert relay.offer(b"second", capacity=10)  # the first push hangs; nobody waits on it

    deliveries.open.set()
    assert deliveries.wait_for(2) == [b"first", b"second"]
    assert set(deliveries.threads) == {"messagelog-relay"}


def test_entries_offered_during_a_delivery_travel_together_in_the_next():
    deliveries = Deliveries()
    relay = relay_with_a_stuck_delivery(deliveries, b"0", capacity=100)
    for index in range(1, 8):
        relay.offer(str(index).encode(), capacity=100)

    deliveries.open.set()
    deliveries.wait_for(8)

    assert deliveries.batches == [[b"0"], [str(index).encode() for index in range(1, 8)]]


def test_a_full_buffer_refuses_more_and_memory_stays_bounded():
    deliveries = Deliveries()
    relay = relay_with_a_stuck_delivery(deliveries, b"in flight", capacity=2)

    assert relay.offer(b"a", capacity=2)
    assert relay.offer(b"b", capacity=2)
    assert not relay.offer(b"c", capacity=2)
    assert relay.pending() == 3

    deliveries.open.set()
    assert deliveries.wait_for(3) == [b"in flight", b"a", b"b"]


def test_drain_delivers_what_is_buffered_in_the_calling_thread():
    deliveries = Deliveries()
    relay = relay_with(deliveries, gather=WAIT)  # the relay thread would wait a long time
    relay.offer(b"one", capacity=10)
    relay.offer(b"two", capacity=10)

    relay.drain()

    assert deliveries.batches == [[b"one", b"two"]]
    assert deliveries.threads == [threading.current_thread().name]
    assert relay.pending() == 0


def test_a_failed_delivery_does_not_stop_the_relay():
    deliveries = Deliveries(failures=1)
    relay = relay_with(deliveries)
    relay.offer(b"lost to the failure", capacity=10)
    assert deliveries.started.wait(WAIT)

    relay.offer(b"delivered", capacity=10)

    assert deliveries.wait_for(1) == [b"delivered"]


@pytest.fixture
def relayed(settings):
    """The relay as it runs in production, gathering so long that the test decides when."""
    if services.message_queue() is None:
        pytest.skip("the relay feeds the Redis queue: run with REDIS_URL (CI does)")
    settings.MESSAGE_RELAY_GATHER_MS = 600_000
    yield settings
    services.drain_relay()


@pytest.mark.django_db(transaction=True)
def test_enqueue_buffers_and_the_relay_pushes_without_the_request(relayed):
    services.enqueue(conversation(text="relayed"))
    assert selectors.queue_depth()["queued"] == 0  # still buffered: the request did not push

    services.drain_relay()

    assert selectors.queue_depth()["queued"] == 1
    assert services.flush(actor=None) == 1
    assert MessageLog.objects.get().messages["request"][0]["content"] == "relayed"


@pytest.mark.django_db(transaction=True)
def test_a_flush_first_takes_what_this_process_still_buffers(relayed):
    for index in range(3):
        services.enqueue(conversation(text=str(index)))

    assert services.flush(actor=None) == 3
    assert MessageLog.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_when_the_buffer_is_full_the_entry_is_written_at_once(relayed):
    relayed.MESSAGE_BATCH_SIZE = 2
    relayed.MESSAGE_MAX_QUEUE_SIZE = 2
    for index in range(3):
        services.enqueue(conversation(text=str(index)))

    assert [row.messages["request"][0]["content"] for row in MessageLog.objects.all()] == ["2"]
    services.flush(actor=None)
    assert MessageLog.objects.count() == 3


def test_a_stuck_delivery_does_not_hold_back_the_exit_drain():
    deliveries = Deliveries(hold_only_the_first=True)
    relay = relay_with_a_stuck_delivery(deliveries, b"stuck")
    relay.offer(b"behind it", capacity=10)
    drained = threading.Thread(target=relay.drain, args=(0.1,))
    drained.start()
    drained.join(WAIT)

    assert not drained.is_alive()
    assert deliveries.entries() == [b"behind it"]  # sent beside the stuck delivery
    deliveries.open.set()
    assert deliveries.wait_for(2) == [b"behind it", b"stuck"]
    assert relay.pending() == 0


def test_the_thread_outlives_a_failure_between_deliveries():
    deliveries = Deliveries()
    failures = iter([ConnectionError("the database went away")])

    def recycle() -> None:
        error = next(failures, None)
        if error:
            raise error

    relay = Relay(deliveries, gather_seconds=lambda: 0.0, around_thread_delivery=recycle)
    relay.offer(b"first", capacity=10)
    assert deliveries.wait_for(1) == [b"first"]

    relay.offer(b"second", capacity=10)

    assert deliveries.wait_for(2) == [b"first", b"second"]


def test_a_forked_child_starts_with_no_relay_of_its_parent(monkeypatch):
    monkeypatch.setattr(relay_module, "_relays", {})  # leave the process's own relay alone
    parent = relay_for(
        Deliveries(), gather_seconds=lambda: 60.0, around_thread_delivery=lambda: None
    )
    parent.offer(b"the parent's", capacity=10)
    child = os.fork()
    if child == 0:  # the child reports through its exit status only
        fresh = relay_for(
            Deliveries(), gather_seconds=lambda: 60.0, around_thread_delivery=lambda: None
        )
        os._exit(0 if fresh is not parent and fresh.pending() == 0 else 1)
    _, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert (
        relay_for(Deliveries(), gather_seconds=lambda: 60.0, around_thread_delivery=lambda: None)
        is parent
    )


@pytest.mark.django_db(transaction=True)
def test_an_entry_the_relay_writes_itself_stays_anonymous_if_its_author_was_erased(relayed):
    relayed.MESSAGE_BATCH_SIZE = relayed.MESSAGE_MAX_QUEUE_SIZE = 1
    erased = UserFactory(purged_at=timezone.now())
    queue = services.message_queue()
    with queue.exclusive():  # the flusher is stuck: the queue stays full
        queue.push([json.dumps(services._entry(conversation())).encode()], max_size=1)
        services.enqueue(conversation(user_id=erased.pk, text="my address is ..."))
        services.drain_relay()

    row = MessageLog.objects.get(user_id=erased.pk)
    assert (row.username, row.email, row.ip_address) == ("", "", None)
    assert row.messages == {"redacted": True}
