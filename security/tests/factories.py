"""factory_boy factories for every security model."""

from datetime import timedelta

import factory
from django.utils import timezone

from security.models import (
    ActorKind,
    AuditAction,
    AuditLog,
    IPAllowlistEntry,
    IPBlock,
    SecurityEvent,
    Severity,
)


class AuditLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditLog

    actor_id = None
    actor_kind = ActorKind.SYSTEM
    action = AuditAction.USER_UPDATE
    target_type = "accounts.user"
    target_id = factory.Sequence(str)
    changes = factory.LazyFunction(dict)


class SecurityEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecurityEvent

    kind = SecurityEvent.Kind.LOGIN_FAILED
    severity = Severity.WARNING
    ip_address = factory.Sequence(lambda n: f"203.0.113.{n % 250 + 1}")
    username = ""


class IPAllowlistEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IPAllowlistEntry

    network = factory.Sequence(lambda n: f"10.{n // 250 % 250}.{n % 250}.0/24")
    description = "office"
    expires_at = None


class IPBlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IPBlock

    ip_address = factory.Sequence(lambda n: f"198.51.100.{n % 250 + 1}")
    reason = "5 failed authentications"
    blocked_until = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))
