import factory
from django.utils import timezone

from events.catalog import EventType
from events.models import OutboxEvent


class OutboxEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxEvent

    type = EventType.USER_UPDATED
    tenant_id = None
    data = factory.LazyFunction(lambda: {"user_id": 1, "tenant_id": None, "fields": ["name"]})
    occurred_at = factory.LazyFunction(timezone.now)
