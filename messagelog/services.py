"""The conversation log: an O(1) enqueue on the request path and a batched flush.

With Redis, `enqueue` pushes one JSON entry (its row id and timestamp made here)
onto a Redis list before the answer leaves, so an answered conversation is never
only in a process's memory; MESSAGE_RELAY_GATHER_MS above 0 opts into handing it to
this process's relay (`messagelog.relay`), whose thread pushes the entries gathered
meanwhile in one round trip, after the answer. `flush` writes the list to the
database in batches of MESSAGE_BATCH_SIZE. Every MESSAGE_BATCH_SIZE-th entry queued
asks for a flush, Celery beat flushes every MESSAGE_FLUSH_INTERVAL_SECONDS, and when
the queue holds MESSAGE_MAX_QUEUE_SIZE entries (the flusher is down or behind)
further entries are written directly, so memory stays bounded and nothing is
dropped. The embedded set-up (no Redis) writes every entry directly. `purge_expired`
deletes what is older than MESSAGE_RETENTION_DAYS, in bounded batches.
"""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from celery import current_app
from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from redis.exceptions import RedisError

from accounts.models import User
from accounts.selectors import purged_user_ids
from core.errors import ServiceUnavailable
from messagelog import store
from messagelog.models import MessageLog
from messagelog.queue import PUSH_CHUNK, LeaseLost, MessageQueue, message_queue
from messagelog.relay import Relay, relay_for
from security.models import AuditAction
from security.services.audit import audit_record

logger = structlog.get_logger(__name__)

# The flush task, asked for by name: the task module calls this one, not the reverse.
FLUSH_TASK = "messagelog.tasks.flush_message_log"

# Why a call whose conversation could not be logged is refused rather than answered.
UNLOGGED = "The conversation could not be logged, so it was not answered and cost nothing."

# What an erased person's conversations keep: the counts, nothing about the person.
REDACTED = {"username": "", "email": "", "ip_address": None, "messages": {"redacted": True}}


@dataclass(frozen=True)
class Conversation:
    user_id: int
    username: str
    email: str
    model: str
    request_messages: list[dict[str, Any]]
    response_message: dict[str, Any]
    research_enabled: bool
    r_type: str
    tokens_used: int
    processing_time_ms: int
    ip_address: str | None
    extra: dict[str, Any] = field(default_factory=dict)


def _storable(message: dict[str, Any]) -> dict[str, Any]:
    """The message as the log stores it: PostgreSQL's jsonb holds no NUL, so an answer
    that carried one (prompts never do: the parser refuses them) keeps U+FFFD there."""
    return {
        name: value.replace("\x00", "\ufffd") if isinstance(value, str) else value
        for name, value in message.items()
    }


def _entry(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "timestamp": timezone.now().isoformat(),
        "user_id": conversation.user_id,
        "username": conversation.username,
        "email": conversation.email,
        "model": conversation.model[: MessageLog._meta.get_field("model").max_length],
        "messages": {
            "request": conversation.request_messages,
            "response": _storable(conversation.response_message),
        },
        "research_enabled": conversation.research_enabled,
        "r_type": conversation.r_type,
        "tokens_used": conversation.tokens_used,
        "processing_time_ms": conversation.processing_time_ms,
        "ip_address": conversation.ip_address,
    }


def enqueue(conversation: Conversation) -> None:
    """Log one answered conversation (see `enqueue_all`)."""
    enqueue_all([conversation])


def enqueue_all(conversations: list[Conversation]) -> None:
    """Log the conversations of one answer before it leaves, all in one place.

    By default (MESSAGE_RELAY_GATHER_MS 0) the entries are pushed onto the Redis queue
    in one round trip, all or none; when Redis cannot be reached, or the queue is full,
    they are written to the database instead, and without Redis they always are. Once
    this returns every entry is in Redis or in the database, so a worker killed right
    after answering loses none. When neither takes them it raises ServiceUnavailable
    (503): the caller gives the credits back and does not answer.

    MESSAGE_RELAY_GATHER_MS above 0 opts into the relay: the entries are handed to
    this process's relay thread, which pushes them later, so the answer leaves before
    they reach Redis (docs/message-log.md states that window).
    """
    if not settings.MESSAGE_LOGGING_ENABLED or not conversations:
        return
    entries = [_entry(conversation) for conversation in conversations]
    try:
        _place(entries)
    except DatabaseError as exc:  # neither Redis nor the database took them
        logger.error("message_log_entries_refused_with_the_call", count=len(entries))
        raise ServiceUnavailable(UNLOGGED) from exc


def _place(entries: list[dict[str, Any]]) -> None:
    if message_queue() is None:
        _store_directly(entries)
        return
    raws = [json.dumps(entry, separators=(",", ":")).encode() for entry in entries]
    if not settings.MESSAGE_RELAY_GATHER_MS:
        for start in range(0, len(raws), PUSH_CHUNK):
            _push_or_store(raws[start : start + PUSH_CHUNK])
        return
    relay = _relay()
    capacity = settings.MESSAGE_MAX_QUEUE_SIZE
    unrelayed = [
        entry
        for entry, raw in zip(entries, raws, strict=True)
        if not relay.offer(raw, capacity=capacity)
    ]
    if unrelayed:
        logger.warning("message_log_relay_full", capacity=capacity)
        _store_directly(unrelayed)


def _relay() -> Relay:
    return relay_for(
        _deliver,
        gather_seconds=_gather_seconds,
        # The relay thread lives outside the request cycle that recycles connections.
        around_thread_delivery=close_old_connections,
    )


def _gather_seconds() -> float:
    return settings.MESSAGE_RELAY_GATHER_MS / 1000


def drain_relay() -> None:
    """Push what this process still buffers, before reading or flushing the queue."""
    if message_queue() is not None:
        _relay().drain()


def _deliver(entries: list[bytes]) -> None:
    """The relay thread's delivery: as `_push_or_store`, but what neither Redis nor the
    database takes can only be logged (its conversations were answered already)."""
    for start in range(0, len(entries), PUSH_CHUNK):
        chunk = entries[start : start + PUSH_CHUNK]
        try:
            _push_or_store(chunk)
        except Exception:  # neither Redis nor the database took them: say which
            logger.exception(
                "message_log_entries_lost",
                count=len(chunk),
                entry_ids=[json.loads(raw)["id"] for raw in chunk[:20]],
            )


def _push_or_store(chunk: list[bytes]) -> None:
    """Push the entries onto the Redis queue, or all of them to the database when the
    queue is full or Redis cannot be reached; raises when the database fails too.

    Every MESSAGE_BATCH_SIZE-th entry queued asks for a flush, and so does a full queue.
    Entries stored here may be written after their author was erased (the relay
    delivers late), so they are anonymised like a flushed batch.
    """
    max_size, batch_size = settings.MESSAGE_MAX_QUEUE_SIZE, settings.MESSAGE_BATCH_SIZE
    try:
        pushed, length = message_queue().push(chunk, max_size=max_size)
    except RedisError as exc:
        logger.warning("message_log_queue_unavailable", error=type(exc).__name__)
        _store_directly([json.loads(raw) for raw in chunk], anonymise=True)
        return
    if not pushed:
        logger.warning("message_log_queue_full", max_size=max_size)
        _store_directly([json.loads(raw) for raw in chunk], anonymise=True)
        _request_flush()
    elif length // batch_size > (length - pushed) // batch_size:
        _request_flush()


def _store_directly(entries: list[dict[str, Any]], *, anonymise: bool = False) -> None:
    rows = [store.row_from(entry) for entry in entries]
    if anonymise:
        _anonymise_purged(rows)
    for position in store.store(rows):
        # The conversation it logs has been answered; only the entry is lost, as the
        # queue's flusher would set it aside. It holds what the database refuses.
        entry = entries[position]
        logger.error("message_log_entry_refused", entry_id=entry["id"], user_id=entry["user_id"])


def _request_flush() -> None:
    """Ask a worker to flush; without a broker this process is the flusher, inline.

    Logging must never fail the conversation it logs (its credit is already
    taken), so a broker or database error here is logged and left to beat.
    """
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            flush(actor=None)
        else:
            current_app.send_task(FLUSH_TASK)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logger.warning("message_log_flush_request_failed", error=type(exc).__name__)


def flush(*, actor: User | None, max_rows: int | None = None) -> int:
    """Write queued conversations in batches; returns how many entries it settled.
    A system job: `actor` is None from beat, the command and a full batch alike.

    One flusher at a time (a lease in Redis, renewed while it works, so a flusher that
    dies frees it within LEASE_SECONDS); another caller returns 0 at once. A batch
    left in flight by a flusher that died is written first, each row once. A run takes what was
    queued when it started (or `max_rows`), never chasing entries that arrive
    meanwhile, so a flush that runs inline in a request stays bounded. A run that
    holds the lock records when it ran and what it settled (`selectors.last_flush`).
    """
    queue = message_queue()
    if queue is None:
        return 0
    drain_relay()
    settled = 0
    with queue.exclusive() as lease:
        if lease is None:
            return 0
        depth = queue.depth()
        budget = depth["queued"] + depth["inflight"]
        if max_rows is not None:
            budget = min(budget, max_rows)
        try:
            while settled < budget:
                size = min(settings.MESSAGE_BATCH_SIZE, budget - settled)
                batch = queue.inflight() or queue.claim(size, lease=lease)
                if not batch:
                    break
                _write(queue, batch)
                queue.release(batch, lease=lease)
                settled += len(batch)
        except LeaseLost:  # this run stalled past its lease: the next flusher goes on
            logger.warning("message_log_flush_lease_lost", settled=settled)
            return settled
        queue.mark_flushed(at=timezone.now().isoformat(), settled=settled)
    if settled:
        logger.info("message_log_flushed", count=settled)
    return settled


def _write(queue: MessageQueue, batch: list[bytes]) -> None:
    """Store a batch; entries that can never be stored are set aside, not retried."""
    rows, raws, unwritable = [], [], []
    for raw in batch:
        try:
            rows.append(store.decode(raw))
            raws.append(raw)
        except (ValueError, KeyError, TypeError):
            unwritable.append(raw)
    _anonymise_purged(rows)
    unwritable.extend(raws[position] for position in store.store(rows))
    if unwritable:
        logger.error("message_log_entries_refused", count=len(unwritable))
        queue.bury(unwritable)


def _anonymise_purged(rows: list[dict[str, Any]]) -> None:
    """An account erased while its conversations waited in the queue stays erased."""
    purged = purged_user_ids(row["user_id"] for row in rows) if rows else set()
    for row in rows:
        if row["user_id"] in purged:
            row.update(REDACTED)


@dataclass(frozen=True)
class Purge:
    """What one retention run did: `finished` False when its time budget ran out first."""

    cutoff: datetime | None
    deleted: int
    batches: int
    finished: bool


def purge_expired(
    *,
    actor: User | None,
    now: datetime | None = None,
    time_budget_seconds: float | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> Purge:
    """Delete the conversations logged more than MESSAGE_RETENTION_DAYS ago (0: none).

    A system job (`actor` None from beat and the command). Each statement deletes at
    most MESSAGE_PURGE_BATCH_SIZE rows and commits, so no statement holds many locks
    nor leaves much for vacuum at once; the run stops when a batch comes back short
    (done) or after MESSAGE_PURGE_TIME_BUDGET_SECONDS (the next run goes on). After each
    batch `on_batch(deleted so far, batches so far)` reports progress. A run that had
    a cutoff is audited (MESSAGE_LOG_PURGED) with what it deleted, also when nothing.
    """
    days = settings.MESSAGE_RETENTION_DAYS
    if not days:
        return Purge(cutoff=None, deleted=0, batches=0, finished=True)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    limit = settings.MESSAGE_PURGE_BATCH_SIZE
    budget = time_budget_seconds or settings.MESSAGE_PURGE_TIME_BUDGET_SECONDS
    deadline = time.monotonic() + budget
    deleted = batches = 0
    while True:  # at least one batch, however small the budget
        count = store.delete_older_than(cutoff, limit=limit)
        deleted += count
        batches += 1
        finished = count < limit
        if on_batch is not None:
            on_batch(deleted, batches)
        if finished or time.monotonic() >= deadline:
            break
    purge = Purge(cutoff=cutoff, deleted=deleted, batches=batches, finished=finished)
    audit_record(
        action=AuditAction.MESSAGE_LOG_PURGED,
        actor=actor,
        target_type=MessageLog._meta.label_lower,
        changes={
            "retention_days": days,
            "cutoff": cutoff.isoformat(),
            "deleted": deleted,
            "batches": batches,
            "finished": finished,
        },
    )
    logger.info("message_log_purged", deleted=deleted, batches=batches, finished=finished)
    return purge


def redact_users(user_ids) -> int:
    """Strip the person from the logged conversations of erased accounts; counts stay."""
    return MessageLog.objects.filter(user_id__in=user_ids).update(**REDACTED)


def message_log_entry_read(*, actor: User, entry: MessageLog) -> None:
    """Staff opened one conversation (the admin's page of it): audited as the API's
    read of a user's conversations (MESSAGE_LOG_READ, the user as target), naming it."""
    audit_record(
        action=AuditAction.MESSAGE_LOG_READ,
        actor=actor,
        target_type=User._meta.label_lower,
        target_id=entry.user_id,
        tenant_id=User.objects.filter(pk=entry.user_id).values_list("tenant_id", flat=True).first(),
        changes={"conversation": str(entry.pk)},
    )
