import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class MessageLog(models.Model):
    """One conversation through the metered API; its id is made when it is enqueued."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Lookups by user use messagelog_user_time_idx, which starts with user_id; a
    # second index on the busiest table would only slow every insert.
    user_id = models.BigIntegerField()
    username = models.CharField(max_length=150, blank=True)
    email = models.CharField(max_length=254, blank=True)
    model = models.CharField(max_length=100)
    messages = models.JSONField(encoder=DjangoJSONEncoder)
    research_enabled = models.BooleanField(default=False)
    r_type = models.CharField(max_length=32, blank=True)
    tokens_used = models.IntegerField(default=0)
    processing_time_ms = models.IntegerField(default=0)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-timestamp"]
        indexes = [models.Index(fields=["user_id", "-timestamp"], name="messagelog_user_time_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.model} {self.timestamp:%Y-%m-%d %H:%M}"
