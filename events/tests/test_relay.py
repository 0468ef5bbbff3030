"""The outbox relay against the running RabbitMQ, a Redis stream, and no broker."""

import json
import uuid

import jsonschema
import pytest
import redis
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from apikeys.services import apikey_create
from core.tests.markers import redis_only
from events import relay, services
from events.catalog import EventType, schema_of
from events.models import OutboxEvent
from events.tests.factories import OutboxEventFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _record(n: int = 1) -> list[OutboxEvent]:
    return [
        services.event_record(
            actor=None,
            type=EventType.USER_UPDATED,
            tenant_id=None,
            data={"user_id": i, "tenant_id": None, "fields": ["name"]},
        )
        for i in range(n)
    ]


def test_relay_publishes_each_committed_event_once_to_rabbitmq(rabbitmq):
    # Given: a committed domain change (its on-commit kick relays at once, inline)
    user = UserFactory()
    rabbitmq.drain()  # the factory's own events
    with transaction.atomic():
        issued = apikey_create(user=user, name="ci", actor=user)
        _record(2)
    # When: the relay runs again, as beat would
    again = relay.relay_pending()
    # Then: three messages, once each, with their event ids, matching their schemas
    messages = rabbitmq.drain()
    bodies = [json.loads(message.body) for message in messages]
    assert again == 0
    assert sorted(body["type"] for body in bodies) == [
        "api_key.created",
        "user.updated",
        "user.updated",
    ]
    assert len({body["id"] for body in bodies}) == 3
    assert {m.properties["message_id"] for m in messages} == {b["id"] for b in bodies}
    created = next(body for body in bodies if body["type"] == "api_key.created")
    assert created["data"]["key_id"] == issued.key.pk
    assert issued.clear not in json.dumps(bodies)
    for body in bodies:
        jsonschema.validate(body, schema_of(body["type"]))
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()


def test_rolled_back_change_publishes_nothing(rabbitmq):
    user = UserFactory()
    rabbitmq.drain()

    with pytest.raises(RuntimeError), transaction.atomic():
        apikey_create(user=user, name="never", actor=user)
        _record(1)
        raise RuntimeError("roll back")

    assert relay.relay_pending() == 0
    assert rabbitmq.drain() == []
    assert not OutboxEvent.objects.filter(type=EventType.API_KEY_CREATED).exists()


def test_relay_keeps_events_while_the_broker_is_down_and_publishes_them_later(rabbitmq, settings):
    url = settings.EVENTS_BROKER_URL
    settings.EVENTS_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens
    (event,) = _record(1)  # its kick found no broker: nothing raised
    assert relay.relay_pending() == 0
    event.refresh_from_db()
    assert event.published_at is None

    settings.EVENTS_BROKER_URL = url
    assert relay.relay_pending() == 1
    (message,) = rabbitmq.drain()
    assert json.loads(message.body)["id"] == str(event.pk)


@redis_only
def test_relay_appends_to_a_redis_stream(settings):
    stream = f"umtest_events_{uuid.uuid4().hex[:8]}"
    settings.EVENTS_BROKER_URL = settings.REDIS_URL
    settings.EVENTS_REDIS_STREAM = stream
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        (event,) = _record(1)
        relay.relay_pending()
        entries = client.xrange(stream)
        assert [fields[b"id"].decode() for _, fields in entries] == [str(event.pk)]
        body = json.loads(entries[0][1][b"body"])
        jsonschema.validate(body, schema_of("user.updated"))
    finally:
        client.delete(stream)
        client.close()


def test_without_a_broker_events_are_marked_published_and_pruned_later(settings):
    settings.EVENTS_BROKER_URL = ""
    (event,) = _record(1)
    relay.relay_pending()
    event.refresh_from_db()
    assert event.published_at is not None

    old = OutboxEventFactory(published_at=event.published_at.replace(year=2000))
    assert relay.prune_published(older_than_days=7) == 1
    assert not OutboxEvent.objects.filter(pk=old.pk).exists()
    assert OutboxEvent.objects.filter(pk=event.pk).exists()


def test_a_run_reads_again_only_after_a_full_batch(settings):
    """A short batch took every row there was: the run ends without another read."""
    settings.EVENTS_BROKER_URL = ""
    settings.EVENTS_RELAY_BATCH_SIZE = 2
    _record(3)
    OutboxEvent.objects.update(published_at=None)

    with CaptureQueriesContext(connection) as queries:
        assert relay.relay_pending() == 3

    table = OutboxEvent._meta.db_table
    reads = [
        query
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT") and f'FROM "{table}"' in query["sql"]
    ]
    assert len(reads) == 2
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()
