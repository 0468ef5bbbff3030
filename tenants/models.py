from django.db import models

from core.models import TimeStampedModel


class Tenant(TimeStampedModel):
    """An isolated organisation; users with no tenant belong to the platform."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    domain = models.CharField(max_length=253, blank=True)
    is_active = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
