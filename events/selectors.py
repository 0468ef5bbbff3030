from django.db.models import QuerySet

from events.models import OutboxEvent


def events_unpublished() -> QuerySet[OutboxEvent]:
    """What the relay has still to publish, oldest first (`outbox_unpublished_idx`)."""
    return OutboxEvent.objects.filter(published_at__isnull=True).order_by("occurred_at", "id")


def events_of_type(event_type: str) -> QuerySet[OutboxEvent]:
    return OutboxEvent.objects.filter(type=event_type).order_by("occurred_at", "id")
