from datetime import datetime

import django_filters
from django.db.models import QuerySet
from redis.exceptions import RedisError

from core.errors import ValidationFailed
from messagelog.models import MessageLog
from messagelog.queue import message_queue
from security.models import AuditAction, AuditLog


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


def last_flush() -> dict | None:
    """When the queue was last flushed (`at`, an aware datetime) and how many entries
    that run settled; None on the embedded set-up, before any flush, or when Redis
    does not answer."""
    queue = message_queue()
    try:
        state = queue.last_flush() if queue is not None else None
    except RedisError:
        return None
    if state is None:
        return None
    return {"at": datetime.fromisoformat(state["at"]), "settled": state["settled"]}


def last_purge() -> dict | None:
    """The last retention run (`at`, `deleted`, `finished`, `cutoff`), None before any."""
    run = (
        AuditLog.objects.filter(action=AuditAction.MESSAGE_LOG_PURGED)
        .order_by("-occurred_at", "-id")
        .first()
    )
    if run is None:
        return None
    return {
        "at": run.occurred_at,
        "deleted": run.changes["deleted"],
        "finished": run.changes["finished"],
        "cutoff": datetime.fromisoformat(run.changes["cutoff"]),
    }


class MessageFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")
    model = django_filters.CharFilter(field_name="model")

    class Meta:
        model = MessageLog
        fields = ["since", "until", "model"]


def messages_visible_to(actor) -> QuerySet[MessageLog]:
    """The conversations of the actor's own account."""
    return MessageLog.objects.filter(user_id=actor.pk)


def messages_list(*, actor, filters) -> QuerySet[MessageLog]:
    """The actor's conversations, newest first, filtered by `since`, `until` (ISO
    times, `until` excluded) and `model`; 400 VALIDATION_ERROR for a bad filter.
    Served by messagelog_user_time_idx."""
    return _filtered(messages_visible_to(actor), filters)


def messages_of_user(*, user_id: int, filters) -> QuerySet[MessageLog]:
    """One account's conversations, as `messages_list` filters them, for staff whose
    right to read them the caller has decided (the support levels of `/v1/support`)."""
    return _filtered(MessageLog.objects.filter(user_id=user_id), filters)


def _filtered(queryset: QuerySet[MessageLog], filters) -> QuerySet[MessageLog]:
    filterset = MessageFilter(filters, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationFailed(
            errors=[
                f"{field}: {message}"
                for field, messages in filterset.errors.items()
                for message in messages
            ]
        )
    return filterset.qs
