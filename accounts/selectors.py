"""Reads of accounts and login sessions."""

from django.db.models import QuerySet

from accounts.models import LoginSession, User


def user_get_by_identifier(identifier: str) -> User | None:
    """The account whose email or username matches, ignoring letter case.

    Uses the functional unique indexes on LOWER(email) and LOWER(username).
    """
    value = identifier.strip().lower()
    lookup = {"email__lower": value} if "@" in value else {"username__lower": value}
    return User.objects.select_related("role", "tenant").filter(**lookup).first()


def user_email_taken(email: str, *, exclude_id: int | None = None) -> bool:
    return User.objects.filter(email__lower=email.lower()).exclude(pk=exclude_id).exists()


def user_username_taken(username: str, *, exclude_id: int | None = None) -> bool:
    return User.objects.filter(username__lower=username.lower()).exclude(pk=exclude_id).exists()


def login_sessions_active_for_user(*, user: User) -> QuerySet[LoginSession]:
    return LoginSession.objects.filter(user=user, revoked_at__isnull=True)


def user_statistics(*, users: QuerySet[User], since=None, until=None) -> dict:
    """Totals by status, role, tenant, plan and verification, and sign-ups per day.

    Aggregates in the database (GROUP BY), so the cost does not grow with Python loops.
    """
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    def grouped(field: str) -> dict:
        rows = users.order_by().values(field).annotate(count=Count("id"))
        return {str(row[field]) if row[field] is not None else "none": row["count"] for row in rows}

    signups = users
    if since is not None:
        signups = signups.filter(created_at__date__gte=since)
    if until is not None:
        signups = signups.filter(created_at__date__lte=until)
    per_day = (
        signups.order_by()
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(count=Count("id"))
        .order_by("day")
    )
    return {
        "total": users.count(),
        "by_status": grouped("status"),
        "by_role": grouped("role__name"),
        "by_tenant": grouped("tenant_id"),
        "by_plan": grouped("subscription_plan"),
        "by_verified": grouped("is_verified"),
        "signups_per_day": [{"date": row["day"], "count": row["count"]} for row in per_day],
    }


def purged_user_ids(user_ids) -> set[int]:
    """Which of these users have been erased; their conversations must stay anonymous."""
    return set(
        User.objects.filter(pk__in=set(user_ids), purged_at__isnull=False).values_list(
            "pk", flat=True
        )
    )
