"""Moves committed events from the outbox to the broker and the sinks, at least once."""

from datetime import timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from events.brokers import PUBLISH_ERRORS, publisher
from events.models import OutboxEvent
from events.sinks import registered_sinks

logger = structlog.get_logger(__name__)


def _next_batch(size: int) -> list[OutboxEvent]:
    # SKIP LOCKED: relays running at once take different rows, none waits for another.
    return list(
        OutboxEvent.objects.filter(published_at__isnull=True)
        .order_by("occurred_at", "id")
        .select_for_update(skip_locked=True)[:size]
    )


def relay_pending(*, max_batches: int = 100) -> int:
    """Publish unpublished events oldest first; the count published.

    A broker that is down leaves the rows unpublished (with the error and the attempt
    counted) for the next run; nothing is raised, as this also runs after a request's
    commit. Events of one batch are published in order, so the first failure stops it.
    """
    published_total = 0
    try:
        with publisher() as broker:
            for _ in range(max_batches):
                with transaction.atomic():
                    batch = _next_batch(settings.EVENTS_RELAY_BATCH_SIZE)
                    if not batch:
                        break
                    published, failure = [], None
                    for event in batch:
                        try:
                            broker.publish(event.envelope())
                        except PUBLISH_ERRORS as error:
                            failure = (event, error)
                            break
                        published.append(event)
                    OutboxEvent.objects.filter(pk__in=[e.pk for e in published]).update(
                        published_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
                    )
                    for sink in registered_sinks():
                        sink(published)
                    if failure is not None:
                        event, error = failure
                        _record_failure(event.pk, error)
                published_total += len(published)
                # A short batch took every row not locked by another relay; events
                # committed since then have kicked a run of their own.
                if failure is not None or len(batch) < settings.EVENTS_RELAY_BATCH_SIZE:
                    break
    except PUBLISH_ERRORS as error:
        logger.warning("events_broker_unavailable", error=str(error)[:300])
    if published_total:
        logger.info("events_relayed", count=published_total)
    return published_total


def _record_failure(event_id, error: Exception) -> None:
    logger.warning("event_publish_failed", event_id=str(event_id), error=str(error)[:300])
    OutboxEvent.objects.filter(pk=event_id).update(
        attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:500]
    )


def prune_published(*, older_than_days: int, batch_size: int = 5000) -> int:
    """Delete published events older than the retention, in bounded batches."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted = 0
    while True:
        ids = list(
            OutboxEvent.objects.filter(published_at__lt=cutoff).values_list("pk", flat=True)[
                :batch_size
            ]
        )
        if not ids:
            return deleted
        deleted += OutboxEvent.objects.filter(pk__in=ids).delete()[0]
