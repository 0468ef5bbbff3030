import pytest

from events import services, tasks
from events.catalog import EventType
from events.models import OutboxEvent
from webhooks import tasks as webhook_tasks
from webhooks.services import deliveries_fan_out
from webhooks.tests.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def _broker_down(*args, **kwargs):
    raise OSError("connection refused")


def test_a_celery_broker_that_is_down_leaves_the_event_for_beat(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.relay_events, "delay", _broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        event = services.event_record(
            actor=None,
            type=EventType.USER_UPDATED,
            tenant_id=None,
            data={"user_id": 1, "tenant_id": None, "fields": ["name"]},
        )

    assert OutboxEvent.objects.filter(pk=event.pk, published_at__isnull=True).exists()


def test_a_celery_broker_that_is_down_leaves_the_delivery_due(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(webhook_tasks.deliver_webhook, "delay", _broker_down)
    endpoint = WebhookEndpointFactory()
    event = OutboxEvent.objects.create(
        type=EventType.USER_UPDATED,
        tenant_id=endpoint.tenant_id,
        data={"user_id": 1, "tenant_id": endpoint.tenant_id, "fields": ["name"]},
        occurred_at=endpoint.created_at,
    )

    with django_capture_on_commit_callbacks(execute=True):
        (delivery_id,) = deliveries_fan_out([event])

    assert endpoint.deliveries.get().pk == delivery_id
    assert endpoint.deliveries.get().status == "pending"
