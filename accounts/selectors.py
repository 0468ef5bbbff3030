"""Reads of accounts and login sessions."""

from django.db.models import QuerySet

from accounts.models import LoginSession, User


def user_get_by_identifier(identifier: str) -> User | None:
    """The account whose email or username matches, ignoring letter case.

    Uses the functional unique indexes on LOWER(email) and LOWER(username).
    """
    value = identifier.strip().lower()
    lookup = {"email__lower": value} if "@" in value else {"username__lower": value}
    return User.objects.select_related("role").filter(**lookup).first()


def user_email_taken(email: str, *, exclude_id: int | None = None) -> bool:
    return User.objects.filter(email__lower=email.lower()).exclude(pk=exclude_id).exists()


def user_username_taken(username: str, *, exclude_id: int | None = None) -> bool:
    return User.objects.filter(username__lower=username.lower()).exclude(pk=exclude_id).exists()


def login_sessions_active_for_user(*, user: User) -> QuerySet[LoginSession]:
    return LoginSession.objects.filter(user=user, revoked_at__isnull=True)
