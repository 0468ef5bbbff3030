"""Reads of accounts, roles and login sessions, and what each actor may see of them."""

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from accounts.authz.roles import Permission
from accounts.authz.rules import is_platform_admin, permissions_of
from accounts.filters import UserFilter
from accounts.models import LoginSession, Role, User
from core.errors import ValidationFailed


def users_visible_to(actor) -> QuerySet[User]:
    """The users an actor may see: all, their tenant's, or only themselves. Others are 404."""
    users = User.objects.select_related("role", "tenant")
    if is_platform_admin(actor):
        return users
    if Permission.READ_USERS in permissions_of(actor) and actor.tenant_id is not None:
        return users.filter(tenant_id=actor.tenant_id)
    return users.filter(pk=actor.pk)


def users_list(*, actor, filters: dict) -> QuerySet[User]:
    """The users an actor may see, filtered and ordered by the list's query parameters
    (already validated by the API: see `accounts.filters.UserFilter`)."""
    filterset = UserFilter(filters, queryset=users_visible_to(actor))
    if not filterset.is_valid():
        raise ValidationFailed(
            errors=[
                f"{name}: {message}"
                for name, messages in filterset.errors.items()
                for message in messages
            ]
        )
    return filterset.qs


def roles_visible_to(actor) -> QuerySet[Role]:
    """The built-in roles and the actor's tenant's roles; every role for platform admins."""
    roles = Role.objects.select_related("tenant")
    if is_platform_admin(actor):
        return roles
    return roles.filter(tenant__isnull=True) | roles.filter(tenant_id=actor.tenant_id)


def sessions_visible_to(actor) -> QuerySet[LoginSession]:
    """The live login sessions an actor sees under /api/v1/users/me/sessions: their own."""
    return login_sessions_active_for_user(user=actor)


def other_sessions_of(actor, *, current_session_id: str) -> QuerySet[LoginSession]:
    """The actor's live sessions but the one making the request."""
    return sessions_visible_to(actor).exclude(pk=current_session_id)


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


def user_statistics(*, actor, since=None, until=None) -> dict:
    """Totals by status, role, tenant, plan and verification, and sign-ups per day.

    Of the users the actor may see; aggregates in the database (GROUP BY), so the cost
    does not grow with Python loops.
    """
    users = users_visible_to(actor)

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
