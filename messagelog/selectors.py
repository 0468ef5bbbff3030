from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django.db import connection
from django.db.models import Count, QuerySet, Sum
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


def daily_tallies_kept() -> bool:
    """Whether the database keeps the log's totals per UTC day and model (PostgreSQL:
    the triggers of migration 0004)."""
    return connection.vendor == "postgresql"


def conversations_since(starts: dict[str, datetime]) -> dict[str, dict]:
    """For each window (`{name: start}`, up to now): `{"conversations": n,
    "tokens_used": t, "by_model": {model: (n, t)}}`, exact, in two queries whatever
    the log's size.

    The whole UTC days after each start come from the running totals
    (`messagelog_daily_tally`); only the rest of the start's own day is counted in
    the log (the `timestamp` index), none when the window starts at midnight UTC.
    PostgreSQL only (`daily_tallies_kept`)."""
    first_day = min(start.astimezone(UTC).date() for start in starts.values())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT day, model, sum(conversations)::bigint, sum(tokens_used)::bigint "
            "FROM messagelog_daily_tally WHERE day >= %s GROUP BY day, model",
            [first_day],
        )
        tallied = cursor.fetchall()
    partial = _partial_first_days(starts)
    figures = {}
    for name, start in starts.items():
        whole_days_from = _whole_days_from(start)
        by_model: Counter = Counter()
        tokens: Counter = Counter()
        for day, model, conversations, tokens_used in tallied:
            if day >= whole_days_from:
                by_model[model] += conversations
                tokens[model] += tokens_used
        for model, conversations, tokens_used in partial.get(name, ()):
            by_model[model] += conversations
            tokens[model] += tokens_used
        models = {model: (by_model[model], tokens[model]) for model in by_model if by_model[model]}
        figures[name] = {
            "conversations": sum(count for count, _ in models.values()),
            "tokens_used": sum(used for _, used in models.values()),
            "by_model": models,
        }
    return figures


def _whole_days_from(start: datetime) -> date:
    """The first UTC day wholly inside a window beginning at `start`."""
    utc = start.astimezone(UTC)
    return utc.date() if utc.time() == time.min else utc.date() + timedelta(days=1)


def _partial_first_days(starts: dict[str, datetime]) -> dict[str, list]:
    """`{name: [(model, conversations, tokens)]}` of the log from each start to the
    end of its UTC day, in one query (a UNION of index range scans)."""
    selects, params = [], []
    for name, start in starts.items():
        end_day = _whole_days_from(start)
        if end_day == start.astimezone(UTC).date():
            continue
        rows = MessageLog.objects.filter(
            timestamp__gte=start, timestamp__lt=datetime.combine(end_day, time.min, tzinfo=UTC)
        )
        sql, query_params = (
            rows.order_by()
            .values("model")
            .annotate(conversations=Count("pk"), tokens=Sum("tokens_used", default=0))
            .query.sql_with_params()
        )
        selects.append(f"SELECT %s, * FROM ({sql}) AS part")  # noqa: S608 (the ORM's SQL)
        params.extend([name, *query_params])
    if not selects:
        return {}
    found: dict[str, list] = {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        for name, model, conversations, tokens in cursor.fetchall():
            found.setdefault(name, []).append((model, conversations, tokens))
    return found


def conversations_per_utc_day(days: list[date]) -> dict[date, tuple[int, int]]:
    """`{day: (conversations, tokens)}` for these UTC days, from the running totals
    (one query; a day without conversations is absent). PostgreSQL only."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT day, sum(conversations)::bigint, sum(tokens_used)::bigint "
            "FROM messagelog_daily_tally WHERE day >= %s AND day <= %s GROUP BY day",
            [min(days), max(days)],
        )
        return {day: (count, tokens) for day, count, tokens in cursor.fetchall() if count}
