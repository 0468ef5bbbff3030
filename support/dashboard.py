"""The admin site's dashboard: the platform's figures and charts above the index,
and the state of the conversation-log pipeline with the latest security events.

The figures and charts cost a fixed number of aggregate queries (`statistics`,
`daily_activity`, `top_users_by_conversations`) and are kept in the default cache
for DASHBOARD_CACHE_SECONDS under a key per day, so reloading the index within that
time runs none of them. The operations panel is read on every load: two Redis reads,
one query for the newest security events (the `occurred_at` index) and one for the
newest failed webhook deliveries (the `status, -updated_at` index).
"""

from django.core.cache import cache
from django.utils import timezone

from messagelog.selectors import last_flush, pipeline_state
from support import charts
from support.selectors import (
    DAILY_DAYS,
    daily_activity,
    recent_security_events,
    statistics_now,
    top_users_by_conversations,
)
from webhooks.selectors import deliveries_failed_recently

DASHBOARD_CACHE_SECONDS = 60


def _cache_key() -> str:
    return f"admin-dashboard:{timezone.localdate().isoformat()}"


def _charts(daily: dict, figures: dict, top_users: list[dict]) -> list[charts.Chart]:
    days = daily["days"]
    return [
        charts.daily_chart(
            title=f"Sign-ups per day, last {DAILY_DAYS} days",
            days=days,
            series={"Sign-ups": daily["signups"]},
        ),
        charts.daily_chart(
            title=f"Logins and failed logins per day, last {DAILY_DAYS} days",
            days=days,
            series={"Logins": daily["logins"], "Failed logins": daily["failed_logins"]},
            kind="line",
        ),
        charts.daily_chart(
            title=f"Conversations and credits used per day, last {DAILY_DAYS} days",
            days=days,
            series={"Conversations": daily["conversations"], "Credits used": daily["credits_used"]},
            kind="line",
        ),
        charts.categories_chart(
            title="Users by status", counts=figures["users"]["by_status"], value_name="Users"
        ),
        charts.categories_chart(
            title="Users by plan", counts=figures["users"]["by_plan"], value_name="Users"
        ),
        charts.categories_chart(
            title=f"Top users by conversations, last {DAILY_DAYS} days",
            counts={
                row["username"] or f"user #{row['user_id']}": row["conversations"]
                for row in top_users
            },
            value_name="Conversations",
        ),
    ]


def dashboard_figures(*, actor) -> dict:
    """The figures and charts, from the cache when computed in the last minute."""
    key = _cache_key()
    figures = cache.get(key)
    if figures is None:
        stats = statistics_now(actor=actor)
        daily = daily_activity(actor=actor)
        top_users = top_users_by_conversations(actor=actor)
        figures = {
            "statistics": stats,
            "top_users": top_users,
            "charts": _charts(daily, stats, top_users),
        }
        cache.set(key, figures, DASHBOARD_CACHE_SECONDS)
    return figures


def dashboard_operations(*, actor) -> dict:
    """What is live: the conversation-log queue, its last flush, the newest events."""
    return {
        "pipeline": pipeline_state(),
        "last_flush": last_flush(),
        "security_events": recent_security_events(actor=actor),
        "failed_webhooks": deliveries_failed_recently(limit=10),
    }


def admin_dashboard(*, actor) -> dict:
    return {
        **dashboard_figures(actor=actor),
        "operations": dashboard_operations(actor=actor),
        "cache_seconds": DASHBOARD_CACHE_SECONDS,
    }
