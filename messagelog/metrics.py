"""Queue depth for /metrics, read from Redis when Prometheus scrapes."""

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from messagelog.selectors import pipeline_state


def _gauge() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "message_log_queue_entries",
        "Conversations not yet in the database: queued, in flight, or refused.",
        labels=["list"],
    )


class MessageQueueCollector(Collector):
    def describe(self):
        # Declared up front so registering does not read Redis at start-up.
        yield _gauge()

    def collect(self):
        state = pipeline_state()
        if state["mode"] != "queued" or state["status"] != "ok":
            return
        gauge = _gauge()
        for name in ("queued", "inflight", "dead"):
            gauge.add_metric([name], state[name])
        yield gauge


def register() -> None:
    REGISTRY.register(MessageQueueCollector())
