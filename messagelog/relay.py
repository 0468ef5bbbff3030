"""Hands queued conversations from request threads to one delivery thread per process.

A request appends its serialised entry to this process's buffer and answers; the
relay thread waits a moment for other entries to gather, then delivers them all in
one call, so under load one Redis round trip carries many entries and no request
waits on it. An entry reaches Redis within the gathering time and one round trip.

Besides the batch being delivered, the buffer holds at most the caller's capacity
(MESSAGE_MAX_QUEUE_SIZE): when it is full (the relay is stuck, e.g. on a Redis that
does not answer) `offer` refuses and the caller stores the entry itself, so memory
stays bounded. A normal exit delivers what is left (`drain` runs at interpreter
exit); an entry is lost only if the process is killed outright while it is
buffered, or if neither Redis nor the database takes it (the delivery logs those).
"""

import atexit
import os
import threading
import time
from collections.abc import Callable

import structlog

logger = structlog.get_logger(__name__)

# How long a process exit waits for a delivery already under way before its own.
_EXIT_WAIT_SECONDS = 10.0


class Relay:
    """A bounded buffer and the thread that empties it through `deliver`."""

    def __init__(
        self,
        deliver: Callable[[list[bytes]], None],
        *,
        gather_seconds: Callable[[], float],
        around_thread_delivery: Callable[[], None],
    ) -> None:
        self._deliver = deliver
        self._gather_seconds = gather_seconds
        self._around_thread_delivery = around_thread_delivery
        self._pending: list[bytes] = []
        self._delivering_thread: int | None = None  # the thread delivering a batch now
        self._first_pending_at = 0.0
        self._lock = threading.Lock()
        self._has_work = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def offer(self, entry: bytes, *, capacity: int) -> bool:
        """Buffer an entry for delivery; False when `capacity` entries already wait."""
        with self._lock:
            if len(self._pending) >= capacity:
                return False
            self._pending.append(entry)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="messagelog-relay", daemon=True
                )
                self._thread.start()
            if len(self._pending) == 1:
                self._first_pending_at = time.monotonic()
                self._has_work.notify()
        return True

    def drain(self, timeout: float | None = None) -> None:
        """Deliver, in the calling thread, everything offered before the call.

        Waits (up to `timeout`) for a delivery under way to end first, so that once
        this returns every earlier entry has been handed to `deliver`. Called from
        inside a delivery (the delivery asked for a flush, which drains), it returns
        at once.
        """
        if self._delivering_thread == threading.get_ident():
            return
        with self._lock:
            # False: a delivery is stuck; the rest goes beside it, leaving it the marker.
            owned = self._idle.wait_for(lambda: self._delivering_thread is None, timeout)
            batch = self._take(owned=owned)
        self._deliver_batch(batch, owned=owned)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending) + int(self._delivering_thread is not None)

    def _take(self, *, owned: bool) -> list[bytes]:
        """The whole buffer; `owned` marks this thread as the one delivering it."""
        batch, self._pending = self._pending, []
        if owned and batch:
            self._delivering_thread = threading.get_ident()
        return batch

    def _run(self) -> None:
        while True:
            with self._lock:
                self._wait_until_gathered()
                batch = self._take(owned=True)
            self._prepare_thread()
            self._deliver_batch(batch, owned=True)  # never raises
            self._prepare_thread()

    def _prepare_thread(self) -> None:
        try:
            self._around_thread_delivery()
        except Exception:  # the thread must outlive any one failure
            logger.exception("message_log_relay_failed")

    def _wait_until_gathered(self) -> None:
        """Until the oldest buffered entry has waited the gathering time (lock held).

        A drain meanwhile empties the buffer; the wait then starts again with the
        next entry, so the thread never takes what a drain is about to deliver.
        """
        while True:
            self._has_work.wait_for(lambda: self._pending and self._delivering_thread is None)
            remaining = self._first_pending_at + self._gather_seconds() - time.monotonic()
            if remaining <= 0:
                return
            self._has_work.wait(remaining)

    def _deliver_batch(self, batch: list[bytes], *, owned: bool) -> None:
        if not batch:
            return
        try:
            self._deliver(batch)
        except Exception:  # a delivery must not fail its caller; `deliver` logs what it lost
            logger.exception("message_log_relay_delivery_failed", count=len(batch))
        finally:
            if owned:
                with self._lock:
                    self._delivering_thread = None
                    self._idle.notify_all()
                    if self._pending:
                        self._has_work.notify()


_relays: dict[int, Relay] = {}
_relays_lock = threading.Lock()


def relay_for(
    deliver: Callable[[list[bytes]], None],
    *,
    gather_seconds: Callable[[], float],
    around_thread_delivery: Callable[[], None],
) -> Relay:
    """This process's relay, made on first use (a forked child makes its own).

    The buffer and the thread are per process: a child must not deliver the
    entries its parent had buffered, nor wait on a thread that did not survive
    the fork.
    """
    pid = os.getpid()
    relay = _relays.get(pid)
    if relay is None:
        with _relays_lock:
            relay = _relays.get(pid)
            if relay is None:
                relay = Relay(
                    deliver,
                    gather_seconds=gather_seconds,
                    around_thread_delivery=around_thread_delivery,
                )
                _relays[pid] = relay
    return relay


def _forget_the_parents_relay() -> None:
    """In a forked child: the parent's buffer, thread and locks are not this process's."""
    global _relays_lock
    _relays.clear()
    _relays_lock = threading.Lock()


@atexit.register
def _drain_at_exit() -> None:
    relay = _relays.get(os.getpid())
    if relay is not None:
        relay.drain(_EXIT_WAIT_SECONDS)


os.register_at_fork(after_in_child=_forget_the_parents_relay)
