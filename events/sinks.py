"""Who else hears of events as the relay publishes them (webhooks, for one).

An app above `events` registers a sink when it starts; the relay calls every sink
with each published batch inside the transaction that marks the batch published,
so a sink's rows (say, webhook deliveries) exist exactly when the batch is marked.
"""

from collections.abc import Callable, Sequence

Sink = Callable[[Sequence], None]

_sinks: list[Sink] = []


def sink_register(sink: Sink) -> None:
    if sink not in _sinks:
        _sinks.append(sink)


def registered_sinks() -> tuple[Sink, ...]:
    return tuple(_sinks)
