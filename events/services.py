"""Recording domain events: one outbox row in the caller's transaction.

Domain services call `event_record` inside the transaction of their change; the row
commits or rolls back with it, and the commit asks the relay to publish it.
"""

from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError

from events import relay, tasks
from events.catalog import EventType
from events.models import OutboxEvent

logger = structlog.get_logger(__name__)


def _kick_relay() -> None:
    # After the commit: a Celery broker that is down must not fail the request whose
    # change is already saved; beat's relay publishes the event.
    try:
        tasks.relay_events.delay()
    except (OSError, KombuError) as error:
        logger.warning("events_relay_kick_failed", error=str(error)[:300])


def event_record(*, actor: Any, type: EventType, data: dict, tenant_id: int | None) -> OutboxEvent:
    """Write the event beside the change; published once the caller's transaction
    commits (never if it rolls back). `actor` None: the service itself (a job, a
    failed login with no account)."""
    event = OutboxEvent.objects.create(
        type=EventType(type),
        tenant_id=tenant_id,
        actor_id=getattr(actor, "pk", None),
        data=data,
        occurred_at=timezone.now(),
    )
    transaction.on_commit(_kick_relay)
    return event


def user_event_record(*, actor: Any, type: EventType, user: Any, **data: Any) -> OutboxEvent:
    """An event about one account: its id and tenant first in `data`."""
    return event_record(
        actor=actor,
        type=type,
        tenant_id=user.tenant_id,
        data={"user_id": user.pk, "tenant_id": user.tenant_id, **data},
    )


def events_relay(*, actor: Any) -> int:
    """Publish what the outbox holds (`relay_events`); `actor` None for the jobs."""
    return relay.relay_pending()


def events_prune(*, actor: Any, older_than_days: int) -> int:
    return relay.prune_published(older_than_days=older_than_days)
