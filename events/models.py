import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from events.catalog import EventType


class OutboxEvent(models.Model):
    """A domain event, written in the transaction of the change it reports.

    The relay publishes rows whose `published_at` is empty and then stamps them, so a
    rolled-back change leaves no event and a committed one is published at least once
    (a crash between the publish and the stamp publishes it again, under the same id).
    Tenant and actor are plain ids: the outbox sits below the apps that own them and
    outlives what it describes (a `user.deleted` event must survive the user).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    tenant_id = models.BigIntegerField(null=True, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            # The relay's scan: only the few unpublished rows, oldest first.
            models.Index(
                fields=["occurred_at"],
                condition=Q(published_at__isnull=True),
                name="outbox_unpublished_idx",
            ),
            # The pruning of published rows.
            models.Index(fields=["published_at"], name="outbox_published_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    def envelope(self) -> dict:
        """The message every consumer receives (docs/events.md)."""
        return {
            "id": str(self.id),
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "tenant_id": self.tenant_id,
            "data": self.data,
        }
