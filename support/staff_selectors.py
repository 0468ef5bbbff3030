"""Reads of the support staff API: which users a staff member reaches, and the
records of one user that the higher levels read (conversations, API keys).

A staff member made by a tenant's admin reaches that tenant's users only; one made
by a platform admin reaches every tenant. Deleted accounts are out of reach. Inside
the reach, only plain users (guests and users, no staff flag, no support level)
are listed and may be acted on; the others are `protected`.
"""

from django.db.models import Q, QuerySet

from accounts.authz.roles import BuiltinRole
from accounts.authz.rules import role_rank, target_rank
from accounts.models import Role, User
from apikeys.models import APIKey
from apikeys.selectors import api_key_own, api_keys_of
from core.errors import NotFound
from messagelog.models import MessageLog
from messagelog.selectors import messages_of_user
from support.levels import VISIBLE_FIELDS

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
            matches |= Q(email__icontains=search)
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
