from redis.exceptions import RedisError

from messagelog.queue import message_queue


def queue_depth() -> dict[str, int] | None:
    """Entries waiting, in flight and refused; None on the embedded set-up (no queue)."""
    queue = message_queue()
    return queue.depth() if queue is not None else None


def pipeline_state() -> dict:
    """How conversations reach the database, for health checks and operators."""
    try:
        depth = queue_depth()
    except RedisError as exc:
        return {"mode": "queued", "status": "unavailable", "error": type(exc).__name__}
    if depth is None:
        return {"mode": "direct"}
    return {"mode": "queued", "status": "ok", **depth}
