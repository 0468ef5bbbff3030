"""The queue depth, as /metrics and the detailed health check show it."""

from messagelog import services
from messagelog.tests.helpers import conversation


def test_queue_depth_is_exported_to_metrics_and_health(queue, client):
    services.enqueue(conversation())

    metrics = client.get("/metrics").content.decode()
    health = client.get("/api/v1/health/detailed").json()

    assert 'message_log_queue_entries{list="queued"} 1.0' in metrics
    assert health["message_log"] == {
        "mode": "queued",
        "status": "ok",
        "queued": 1,
        "inflight": 0,
        "dead": 0,
    }
