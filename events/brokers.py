"""Where the relay publishes: RabbitMQ (AMQP), a Redis stream, or nowhere.

`EVENTS_BROKER_URL` as settings resolve it picks the kind by its scheme: `amqp://`
or `amqps://` publish to a durable topic exchange (routing key: the event type) with
publisher confirms, so a publish returns only once the broker has the message;
`redis://`, `rediss://` or `unix://` append to a capped stream; empty publishes
nothing (the embedded default; the outbox and webhooks still work).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Protocol

from django.conf import settings
from kombu import Connection, Exchange, Producer, Queue
from kombu.exceptions import KombuError
from redis import Redis
from redis.exceptions import RedisError

from core.cache_breaker import connection_class_for

# What a broker raises when it cannot take a message: the relay keeps the row for later.
PUBLISH_ERRORS = (OSError, KombuError, RedisError)
_CONNECT_TIMEOUT_SECONDS = 5
# As the cache's SOCKET_TIMEOUT: one Redis call waits no longer than a cache call.
_REDIS_SOCKET_TIMEOUT_SECONDS = 2


class Publisher(Protocol):
    kind: str

    def publish(self, envelope: dict) -> None: ...


def _body(envelope: dict) -> bytes:
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


class AmqpPublisher:
    kind = "amqp"

    def __init__(self, producer: Producer) -> None:
        self._producer = producer

    def publish(self, envelope: dict) -> None:
        self._producer.publish(
            _body(envelope),
            routing_key=envelope["type"],
            message_id=envelope["id"],
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,  # persistent
            headers={"event_type": envelope["type"]},
            retry=False,
            timeout=_CONNECT_TIMEOUT_SECONDS,
        )


class RedisStreamPublisher:
    kind = "redis"

    def __init__(self, client: Redis) -> None:
        self._client = client

    def publish(self, envelope: dict) -> None:
        self._client.xadd(
            settings.EVENTS_REDIS_STREAM,
            {"id": envelope["id"], "type": envelope["type"], "body": _body(envelope)},
            maxlen=settings.EVENTS_REDIS_STREAM_MAXLEN,
            approximate=True,
        )


class NoPublisher:
    kind = "none"

    def publish(self, envelope: dict) -> None:
        return None


def broker_kind(url: str | None = None) -> str:
    url = settings.EVENTS_BROKER_URL if url is None else url
    scheme = url.split(":", 1)[0].lower() if url else ""
    if scheme in {"amqp", "amqps", "pyamqp"}:
        return "amqp"
    if scheme in {"redis", "rediss", "unix"}:
        return "redis"
    return "none"


def events_exchange() -> Exchange:
    return Exchange(settings.EVENTS_EXCHANGE, type="topic", durable=True)


@cache
def _redis_client(url: str) -> Redis:
    """One client per process and URL: its pool keeps connections between relay runs
    (a run inline in a login would otherwise connect, and check, a new one each time)
    and starts afresh in a forked child. The cache's fail-fast connections: a Redis
    that did not answer earlier in this request (or lately in this process) is not
    waited on again here."""
    return Redis.from_url(
        url,
        socket_timeout=_REDIS_SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=_REDIS_SOCKET_TIMEOUT_SECONDS,
        connection_class=connection_class_for(url),
    )


@contextmanager
def publisher() -> Iterator[Publisher]:
    """A publisher for one relay run: an AMQP connection closes when the run ends; a
    Redis stream's client stays, with its pool, for the next run."""
    url = settings.EVENTS_BROKER_URL
    kind = broker_kind(url)
    if kind == "amqp":
        connection = Connection(
            url,
            connect_timeout=_CONNECT_TIMEOUT_SECONDS,
            transport_options={"confirm_publish": True},
        )
        try:
            connection.ensure_connection(max_retries=1)
            channel = connection.channel()
            exchange = events_exchange()(channel)
            exchange.declare()
            if settings.EVENTS_AMQP_QUEUE:
                Queue(settings.EVENTS_AMQP_QUEUE, exchange=exchange, routing_key="#", durable=True)(
                    channel
                ).declare()
            yield AmqpPublisher(Producer(channel, exchange=exchange))
        finally:
            connection.release()
    elif kind == "redis":
        yield RedisStreamPublisher(_redis_client(url))
    else:
        yield NoPublisher()
