import uuid

import factory
from django.utils import timezone

from tenants.tests.factories import TenantFactory
from webhooks import secret_box
from webhooks.models import WebhookDelivery, WebhookEndpoint

TEST_SECRET = "whsec_test-secret-for-the-factories"


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    tenant = factory.SubFactory(TenantFactory)
    url = "http://127.0.0.1:9/hook"
    event_types = factory.LazyFunction(lambda: ["user.updated"])
    secret_encrypted = factory.LazyFunction(lambda: secret_box.secret_seal(TEST_SECRET))
    secret_hint = secret_box.secret_hint(TEST_SECRET)


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    tenant = factory.LazyAttribute(lambda delivery: delivery.endpoint.tenant)
    event_id = factory.LazyFunction(uuid.uuid4)
    event_type = "user.updated"
    payload = factory.LazyAttribute(
        lambda d: {
            "id": str(d.event_id),
            "type": d.event_type,
            "occurred_at": "2026-01-01T00:00:00Z",
            "tenant_id": d.endpoint.tenant_id,
            "data": {"user_id": 1, "tenant_id": d.endpoint.tenant_id, "fields": ["name"]},
        }
    )
    next_attempt_at = factory.LazyFunction(timezone.now)
