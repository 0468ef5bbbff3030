from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class APIKeyQuerySet(models.QuerySet):
    def usable(self, at=None):
        moment = at or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=moment)
        )


class APIKey(models.Model):
    """An API key (`pe-` + 32 characters), kept only as a SHA-256 digest.

    `prefix` finds the row, the digest proves the key (compared in constant time);
    `last4` lets people recognise a key without it being recoverable.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    last4 = models.CharField(max_length=4)
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = APIKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(is_primary=True, revoked_at__isnull=True),
                name="apikey_one_live_primary_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked})"

    def is_usable(self, at=None) -> bool:
        """The same rule as `APIKey.objects.usable()`, for a row already loaded."""
        moment = at or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)

    @property
    def masked(self) -> str:
        return f"pe-{self.prefix[:4]}…{self.last4}"
