"""Reads of the staff surfaces.

The admin panel's, across the domain apps: platform statistics, and a user's
conversation log. Statistics are a fixed number of aggregate queries (COUNT/SUM
with FILTER, GROUP BY), whatever the number of users; each window query is bounded
by its time column's index. The admin site's dashboard adds the same figures per
day (`daily_activity`), the busiest users and the newest security events. Callers
are platform admins (the views and the admin site ask); nothing there is
tenant-scoped.

The support staff's: which users a staff member reaches, and the records of one
user that the higher levels read (conversations, API keys). A staff member made by
a tenant's admin reaches that tenant's users only; one made by a platform admin
reaches every tenant. Deleted accounts are out of reach. Inside the reach, only
plain users (guests and users, no staff flag, no support level) are listed and may
be acted on; the others are `protected`.
"""

from collections import Counter
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.authz.roles import BuiltinRole
from accounts.authz.rules import role_rank, target_rank
from accounts.models import LoginSession, Role, User
from accounts.selectors import EMAIL_SHOWN, signups_since, tallies_kept, user_tally_groups
from apikeys.models import APIKey
from apikeys.selectors import api_key_own, api_keys_of
from core.errors import NotFound
from credits.models import CreditAccount
from messagelog.models import MessageLog
from messagelog.selectors import (
    conversations_per_utc_day,
    conversations_since,
    daily_tallies_kept,
    messages_of_user,
)
from security.models import IPBlock, SecurityEvent
from support.levels import VISIBLE_FIELDS
from tenants.models import Tenant

TOP_TENANTS = 10
TOP_MODELS = 10
TOP_USERS = 10
DAILY_DAYS = 30
RECENT_SECURITY_EVENTS = 10


def _windows(now) -> dict:
    """The starts of today (midnight, TIME_ZONE), the last 7 and the last 30 days."""
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "today": midnight,
        "last_7_days": now - timedelta(days=7),
        "last_30_days": now - timedelta(days=30),
    }


def _counts_since(queryset: QuerySet, field: str, starts: dict, *, total=None) -> dict:
    """`{window: count}` in one query, bounded by the earliest start (the index on `field`)."""
    earliest = min(starts.values())
    aggregates = {
        name: Count("pk", filter=Q(**{f"{field}__gte": start})) for name, start in starts.items()
    }
    if total is not None:
        aggregates.update(
            {
                f"{name}__sum": Sum(total, filter=Q(**{f"{field}__gte": start}), default=0)
                for name, start in starts.items()
            }
        )
    return queryset.filter(**{f"{field}__gte": earliest}).aggregate(**aggregates)


STATISTICS_CACHE_SECONDS = 60
STATISTICS_CACHE_KEY = "platform-statistics"


def statistics(*, actor) -> dict:
    """`statistics_now`, kept in the cache for STATISTICS_CACHE_SECONDS: the figures
    are exact as of their `generated_at`, at most that old (a million users and ten
    million conversations take seconds to count). For the admin panel's endpoint
    (the admin site's dashboard keeps its own copy); callers are platform admins."""
    figures = cache.get(STATISTICS_CACHE_KEY)
    if figures is None:
        figures = statistics_now(actor=actor)
        cache.set(STATISTICS_CACHE_KEY, figures, STATISTICS_CACHE_SECONDS)
    return figures


def statistics_now(*, actor) -> dict:
    """The platform's figures for the admin panel (see docs/api.md, admin panel).

    Logins are the login sessions opened (kept at least LOGIN_SESSION_RETENTION_DAYS
    after they end); conversations and credits come from the conversation log (one
    credit per conversation; refunded failures are not logged), and the credits used
    since the daily reset from the balances themselves; failed logins are the
    security events of that kind.
    """
    now = timezone.now()
    windows = _windows(now)
    users = User.objects.order_by()
    # Queries 1 to 3: the users by status, plan and tenant.
    user_figures = _users_from_tallies() if tallies_kept() else _users_counted(users)
    # Query 4: sign-ups (the running totals and user_created_idx); queries 5 and 6: logins
    # (loginsession_created_idx) and the sessions live now (loginsession_live_idx).
    signups = (
        signups_since(windows) if tallies_kept() else _counts_since(users, "created_at", windows)
    )
    logins = _counts_since(LoginSession.objects.order_by(), "created_at", windows)
    active_sessions = LoginSession.objects.filter(
        revoked_at__isnull=True, expires_at__gt=now
    ).count()
    # Queries 7 and 8: conversations, tokens and the models most used.
    conversations, top_models = _conversation_figures(windows)
    # Query 9: what the balances count since their last daily reset
    # (creditaccount_used_today_idx: the accounts used today only).
    used_since_reset = CreditAccount.objects.filter(used_today__gt=0).aggregate(
        used=Sum("used_today", default=0)
    )["used"]
    # Query 10: failed logins; query 11: addresses blocked now.
    failed_windows = {name: windows[name] for name in ("today", "last_7_days")}
    failed_logins = _counts_since(
        SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED).order_by(),
        "occurred_at",
        failed_windows,
    )
    blocked_ips = IPBlock.objects.active(at=now).aggregate(
        count=Count("ip_address", distinct=True)
    )["count"]
    names = tuple(windows)
    return {
        "generated_at": now,
        "users": user_figures,
        "signups": {name: signups[name] for name in names},
        "logins": {name: logins[name] for name in names},
        "active_sessions": active_sessions,
        "conversations": {name: conversations[name] for name in names},
        "tokens_used": {name: conversations[f"{name}__sum"] for name in names},
        "credits_used": {
            **{name: conversations[name] for name in names},
            "since_daily_reset": used_since_reset,
        },
        "top_models": top_models,
        "failed_logins": {name: failed_logins[name] for name in failed_windows},
        "blocked_ips": blocked_ips,
    }


def _users_counted(users: QuerySet) -> dict:
    """The user figures counted in the table: totals and status in one pass, then by
    plan, then the largest tenants."""
    by_status = users.aggregate(
        total=Count("pk"),
        without_tenant=Count("pk", filter=Q(tenant__isnull=True)),
        **{status: Count("pk", filter=Q(status=status)) for status in User.Status.values},
    )
    by_plan = {
        row["subscription_plan"]: row["count"]
        for row in users.values("subscription_plan").annotate(count=Count("pk")).order_by()
    }
    by_tenant = [
        {"tenant_id": row["tenant_id"], "name": row["tenant__name"], "users": row["count"]}
        for row in users.filter(tenant__isnull=False)
        .values("tenant_id", "tenant__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "tenant_id")[:TOP_TENANTS]
    ]
    return {
        "total": by_status["total"],
        "by_status": {status: by_status[status] for status in User.Status.values},
        "by_plan": by_plan,
        "by_tenant": by_tenant,
        "without_tenant": by_status["without_tenant"],
    }


def _users_from_tallies() -> dict:
    """The same figures as `_users_counted`, from the running totals the database
    keeps (`user_tally_groups`): two small queries, exact."""
    by_status: Counter = Counter()
    by_plan: Counter = Counter()
    by_tenant: Counter = Counter()
    for row in user_tally_groups():
        by_status[row["status"]] += row["count"]
        by_plan[row["subscription_plan"]] += row["count"]
        by_tenant[row["tenant_id"]] += row["count"]
    largest = sorted(
        ((tenant_id, count) for tenant_id, count in by_tenant.items() if tenant_id and count),
        key=lambda item: (-item[1], item[0]),
    )[:TOP_TENANTS]
    names = dict(
        Tenant.objects.filter(pk__in=[tenant_id for tenant_id, _ in largest]).values_list(
            "pk", "name"
        )
    )
    return {
        "total": sum(by_status.values()),
        "by_status": {status: by_status[status] for status in User.Status.values},
        "by_plan": {plan: count for plan, count in by_plan.items() if count},
        "by_tenant": [
            {"tenant_id": tenant_id, "name": names[tenant_id], "users": count}
            for tenant_id, count in largest
        ],
        "without_tenant": by_tenant[None],
    }


def _conversation_figures(windows: dict) -> tuple[dict, list]:
    """`({window: count, window__sum: tokens}, top models of the last 30 days)`: from
    the log's daily totals where the database keeps them (`conversations_since`),
    else counted in the log (the `timestamp` index)."""
    if daily_tallies_kept():
        figures = conversations_since(windows)
        conversations = {}
        for name, window in figures.items():
            conversations[name] = window["conversations"]
            conversations[f"{name}__sum"] = window["tokens_used"]
        month = figures["last_30_days"]["by_model"]
        ranked = sorted(month.items(), key=lambda item: (-item[1][0], item[0]))[:TOP_MODELS]
        top_models = [
            {"model": model, "conversations": count, "tokens_used": tokens}
            for model, (count, tokens) in ranked
        ]
        return conversations, top_models
    messages = MessageLog.objects.order_by()
    conversations = _counts_since(messages, "timestamp", windows, total="tokens_used")
    top_models = [
        {"model": row["model"], "conversations": row["count"], "tokens_used": row["tokens"]}
        for row in messages.filter(timestamp__gte=windows["last_30_days"])
        .values("model")
        .annotate(count=Count("pk"), tokens=Sum("tokens_used", default=0))
        .order_by("-count", "model")[:TOP_MODELS]
    ]
    return conversations, top_models


def _last_days(now, count: int) -> list[date]:
    """The last `count` calendar days (TIME_ZONE), oldest first, today last."""
    today = timezone.localdate(now)
    return [today - timedelta(days=back) for back in range(count - 1, -1, -1)]


def _per_day(queryset: QuerySet, field: str, days: list[date], **aggregates) -> dict:
    """`{name: [value per day]}` in one GROUP BY query over the rows since the first
    day's midnight (bounded by the index on `field`); a day without rows counts 0."""
    start = timezone.make_aware(datetime.combine(days[0], time.min))
    rows = (
        queryset.filter(**{f"{field}__gte": start})
        .annotate(day=TruncDate(field))
        .values("day")
        .annotate(**aggregates)
        .order_by()
    )
    by_day = {row["day"]: row for row in rows}
    return {
        name: [by_day[day][name] if day in by_day else 0 for day in days] for name in aggregates
    }


def daily_activity(*, actor, days: int = DAILY_DAYS) -> dict:
    """The platform's activity per day over the last `days` days, for the admin
    site's dashboard: four GROUP BY queries, whatever the number of rows.

    Sign-ups (user_created_idx), logins (loginsession_created_idx), failed logins
    (security events of that kind, by `occurred_at`) and conversations with their
    tokens (the conversation log's `timestamp`); one credit per conversation, as in
    `statistics`.
    """
    now = timezone.now()
    calendar = _last_days(now, days)
    if daily_tallies_kept() and timezone.get_current_timezone_name() == "UTC":
        per_day = conversations_per_utc_day(calendar)
        conversations = {
            "conversations": [per_day.get(day, (0, 0))[0] for day in calendar],
            "tokens_used": [per_day.get(day, (0, 0))[1] for day in calendar],
        }
    else:
        conversations = _per_day(
            MessageLog.objects.order_by(),
            "timestamp",
            calendar,
            conversations=Count("pk"),
            tokens_used=Sum("tokens_used", default=0),
        )
    return {
        "days": calendar,
        **_per_day(User.objects.order_by(), "created_at", calendar, signups=Count("pk")),
        **_per_day(LoginSession.objects.order_by(), "created_at", calendar, logins=Count("pk")),
        **_per_day(
            SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED).order_by(),
            "occurred_at",
            calendar,
            failed_logins=Count("pk"),
        ),
        **conversations,
        "credits_used": conversations["conversations"],
    }


def top_users_by_conversations(*, actor, days: int = DAILY_DAYS, limit: int = TOP_USERS) -> list:
    """The accounts with the most conversations over the last `days` days, most
    first, in one query (the `timestamp` index). The name is the one the log holds
    (blank for an erased account)."""
    since = timezone.now() - timedelta(days=days)
    return [
        {
            "user_id": row["user_id"],
            "username": row["logged_name"],
            "conversations": row["conversations"],
            "tokens_used": row["tokens"],
        }
        for row in MessageLog.objects.filter(timestamp__gte=since)
        .values("user_id")
        .annotate(
            conversations=Count("pk"),
            tokens=Sum("tokens_used", default=0),
            logged_name=Max("username"),
        )
        .order_by("-conversations", "user_id")[:limit]
    ]


def recent_security_events(*, actor, limit: int = RECENT_SECURITY_EVENTS) -> list[SecurityEvent]:
    """The newest security events, newest first (the `occurred_at` index)."""
    return list(
        SecurityEvent.objects.order_by("-occurred_at", "-id").only(
            "occurred_at", "kind", "severity", "user_id", "username", "ip_address"
        )[:limit]
    )


def user_message_logs(*, user) -> QuerySet[MessageLog]:
    """A user's conversations, newest first (messagelog_user_time_idx)."""
    return MessageLog.objects.filter(user_id=user.pk).order_by("-timestamp", "-id")


def user_get(*, user_id: int) -> User:
    """Any account by id, for platform admins; 404 when there is none."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user.")
    return user


# ----- support staff ------------------------------------------------------------------


# The highest rank of a target support staff may touch: a plain user's.
PLAIN_USER_RANK = role_rank(Role(name=BuiltinRole.USER, is_builtin=True, tenant=None))


def user_is_protected(user: User) -> bool:
    """Whether support staff must leave the account alone: platform staff, support
    staff, and anyone whose role outranks a plain user (moderators, admins)."""
    return (
        user.is_staff
        or user.is_superuser
        or bool(user.support_level)
        or target_rank(user) > PLAIN_USER_RANK
    )


def support_reach(staff: User) -> QuerySet[User]:
    """Every account a staff member may look up: their tenant's, or every tenant's
    when they have none; never a deleted one."""
    users = User.objects.select_related("tenant", "role").exclude(status=User.Status.DELETED)
    if staff.tenant_id is not None:
        users = users.filter(tenant_id=staff.tenant_id)
    return users


def _outranking_role_ids(staff: User) -> list[int]:
    roles = Role.objects.all()
    if staff.tenant_id is not None:
        roles = roles.filter(Q(tenant__isnull=True) | Q(tenant_id=staff.tenant_id))
    return [role.pk for role in roles if role_rank(role) > PLAIN_USER_RANK]


def support_targets(staff: User) -> QuerySet[User]:
    """The accounts in reach that staff may act on (`user_is_protected` is False)."""
    return (
        support_reach(staff)
        .filter(is_staff=False, is_superuser=False, support_level="")
        .exclude(role_id__in=_outranking_role_ids(staff))
    )


def support_users_list(*, staff: User, filters: dict) -> QuerySet[User]:
    """The plain users a staff member reaches, newest first; `search` matches the
    username or name, and the email only for levels that see emails (so a level that
    may not read addresses cannot probe for one); `status` filters."""
    users = support_targets(staff).select_related("credit_account")
    search = filters.get("search")
    if search:
        matches = Q(username__icontains=search) | Q(name__icontains=search)
        if "email" in VISIBLE_FIELDS.get(staff.support_level, ()):
            # Only addresses their owners show (`privacy.show_email`).
            matches |= Q(email__icontains=search) & EMAIL_SHOWN
        users = users.filter(matches)
    if filters.get("status"):
        users = users.filter(status=filters["status"])
    return users.order_by("-created_at", "-id")


def support_user_get(*, staff: User, pk: int) -> User:
    """An account in the staff member's reach; 404 otherwise (another tenant's, a
    deleted one, or none)."""
    user = support_reach(staff).filter(pk=pk).first()
    if user is None:
        raise NotFound("No such user.")
    return user


def support_user_api_keys(*, user: User) -> QuerySet[APIKey]:
    """The user's keys, live or not, newest first."""
    return api_keys_of(user).order_by("-created_at", "-id")


def support_user_api_key(*, user: User, key_id: int) -> APIKey:
    """One of the user's keys; 404 when the id is another account's or none."""
    key = api_key_own(user=user, pk=key_id)
    if key is None:
        raise NotFound("No such API key.")
    return key


def support_user_messages(*, user: User, filters) -> QuerySet[MessageLog]:
    """The user's conversations (filtered as the user's own read is); 400 for a bad filter."""
    return messages_of_user(user_id=user.pk, filters=filters)
