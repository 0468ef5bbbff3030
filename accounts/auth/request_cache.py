"""The cache the per-request token check reads: login-session states and user copies.

Every service that changes what a cached copy says drops it here explicitly: a
change that can take rights away (status, role, tenant, staff flags, deletion)
must reach the cache or fail; other changes drop it on a best-effort basis.
"""

from django.core.cache import cache
from django.db import transaction

from accounts.models import User
from core.cache_writes import delete_many_or_fail

SESSION_ACTIVE = "active"
SESSION_REVOKED = "revoked"

# A change of any of these can take rights away: a cached copy must be dropped, or the
# change fails (inside a transaction).
RIGHTS_FIELDS = frozenset(
    {
        "status",
        "role",
        "tenant",
        "is_staff",
        "is_superuser",
        "support_level",
        "deleted_at",
        "purged_at",
    }
)


def session_state_key(session_id: str) -> str:
    return f"login-session:{session_id}"


def session_active_state(user_id: int) -> str:
    """The cached state of a live session: it names its owner, so that a token naming
    another user with this session id is refused without reading the row."""
    return f"{SESSION_ACTIVE}:{user_id}"


def user_cache_key(user_id: int | str) -> str:
    return f"auth-user:{user_id}"


def forget_cached_users(user_ids, *, must_succeed: bool = True) -> None:
    """Drop cached copies of users so the next request reads their rows.

    Inside a transaction the rows change only at commit: a request in between still
    reads the old row and caches it again. So the copies are dropped now and once
    more when the transaction commits. `must_succeed`: inside a transaction, a cache
    that cannot be written fails the caller (CacheWriteFailed) rather than leave
    every process trusting the old row; changes that take nothing away pass False.
    """
    keys = [user_cache_key(pk) for pk in user_ids]
    if not keys:
        return
    delete_many_or_fail(keys, required=must_succeed)
    if transaction.get_connection().in_atomic_block:
        # After the commit the change stands: a lost second delete leaves at most a
        # copy cached by a request that raced the commit, for USER_CACHE_SECONDS.
        transaction.on_commit(lambda: cache.delete_many(keys))


def forget_cached_user(user_id: int | str, *, must_succeed: bool = True) -> None:
    forget_cached_users([user_id], must_succeed=must_succeed)


def forget_changed_user(user: User, fields) -> None:
    """Drop the cached copy of a user whose row changed in `fields` (None: any field);
    strictly when one of them can take rights away."""
    rights_may_change = fields is None or not RIGHTS_FIELDS.isdisjoint(fields)
    forget_cached_user(user.pk, must_succeed=rights_may_change)


def forget_role_members(role_id: int) -> None:
    """Drop the cached copies of every holder of a role that changed or went away."""
    forget_cached_users(User.objects.filter(role_id=role_id).values_list("pk", flat=True))
