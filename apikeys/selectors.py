"""Reads of API keys: whose keys a caller may see, and an account's primary key."""

from django.db.models import QuerySet

from accounts.authz import rules as authz
from accounts.authz.roles import Permission
from accounts.models import User
from accounts.selectors import users_visible_to
from apikeys.models import APIKey


def api_keys_of(user: User) -> QuerySet[APIKey]:
    """The user's own keys, live or not, newest first."""
    return APIKey.objects.filter(user=user)


def api_keys_visible_to(actor: User) -> QuerySet[APIKey]:
    """One's own keys; with the right to change users, the keys of every user one sees."""
    if not authz.can(actor, Permission.WRITE_USERS):
        return api_keys_of(actor)
    return APIKey.objects.filter(user__in=users_visible_to(actor)).select_related("user")


def api_key_own(*, user: User, pk: int | str) -> APIKey | None:
    """The user's own key with this id, else None."""
    return api_keys_of(user).filter(pk=pk).first()


def api_key_primary(user: User) -> APIKey | None:
    """The account's live primary key (shown masked), else None."""
    return APIKey.objects.filter(user=user, is_primary=True).usable().first()
