import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel


class WebhookEndpoint(TimeStampedModel):
    """A URL a tenant wants events POSTed to, signed with its secret.

    The secret must be readable to sign each delivery, so it is stored encrypted
    (`webhooks.secret_box`, a key derived from SECRET_KEY) and shown once, when made
    or rotated; only its first characters (`secret_hint`) are kept in clear. An
    endpoint without a tenant is the platform's and hears every tenant's events.
    """

    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="The event types delivered here.")
    secret_encrypted = models.TextField(editable=False)
    secret_hint = models.CharField(max_length=12, editable=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "is_active"], name="webhook_tenant_active_idx")]

    def __str__(self) -> str:
        return f"{self.url} ({self.secret_hint}…)"


class WebhookDelivery(TimeStampedModel):
    """One event to one endpoint: its attempts, the last outcome, the next try."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # Copied from the endpoint so the tenant's deliveries are found by one index.
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # The relay may hand the same event over twice; the endpoint gets it once.
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "retrying"]),
                name="webhook_delivery_due_idx",
            ),
            models.Index(fields=["tenant", "status"], name="webhook_delivery_tenant_idx"),
            models.Index(fields=["status", "-updated_at"], name="webhook_delivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → endpoint {self.endpoint_id} ({self.status})"
