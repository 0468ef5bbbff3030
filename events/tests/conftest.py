import uuid
from collections.abc import Iterator

import pytest
from kombu import Connection, Exchange, Queue

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


class AmqpTap:
    """A queue of our own bound to every event of a test's own exchange."""

    def __init__(self, connection: Connection, queue: Queue) -> None:
        self._connection = connection
        self._queue = queue

    def drain(self) -> list:
        """Every message waiting, acknowledged."""
        messages = []
        with self._connection.SimpleQueue(self._queue) as simple:
            while True:
                try:
                    message = simple.get(block=True, timeout=0.5)
                except simple.Empty:
                    return messages
                messages.append(message)
                message.ack()


@pytest.fixture
def rabbitmq(settings) -> Iterator[AmqpTap]:
    """Events go to RabbitMQ, to an exchange and a queue named for this test only."""
    name = f"umtest_events_{uuid.uuid4().hex[:12]}"
    settings.EVENTS_BROKER_URL = RABBITMQ_URL
    settings.EVENTS_EXCHANGE = f"{name}_x"
    exchange = Exchange(settings.EVENTS_EXCHANGE, type="topic", durable=True)
    queue = Queue(f"{name}_q", exchange=exchange, routing_key="#", durable=False)
    with Connection(RABBITMQ_URL, connect_timeout=5) as connection:
        channel = connection.channel()
        exchange(channel).declare()
        queue(channel).declare()
        try:
            yield AmqpTap(connection, queue)
        finally:
            queue(channel).delete()
            exchange(channel).delete()
