"""The per-request check behind an access token: no round trip when warm.

A token is accepted only while its login session is live and belongs to the user
the token names: the cached state of a live session carries its owner's id, and
the database fallback reads the row's owner. For a token's session id and user id
it reads, in one `get_many`, the session's cached state, its "seen recently" marker
and the cached user, from this process's copies of those cache keys
(core.cache_mirror: Redis invalidates a copy the moment its key changes) or,
without copies, from the cache in one round trip. Misses fall back to the database
and refill the cache with `add`, which never overwrites a revocation tombstone.
The services that change a user drop its cached copy (`accounts.auth.request_cache`).
"""

from uuid import UUID

from django.core.cache import cache
from django.utils import timezone

from accounts.auth.jwt_tokens import user_id_from_claim
from accounts.auth.request_cache import (
    SESSION_ACTIVE,
    session_active_state,
    session_state_key,
    user_cache_key,
)
from accounts.models import LoginSession, User
from core import cache_mirror

SESSION_STATE_CACHE_SECONDS = 300
USER_CACHE_SECONDS = 60
SEEN_WRITE_INTERVAL_SECONDS = 60


def _seen_key(session_id: str) -> str:
    return f"login-session-seen:{session_id}"


def _session_row_state(session_id: str) -> str | None:
    """The state to cache for a session from its row: live with its owner, or None."""
    row = (
        LoginSession.objects.filter(pk=session_id)
        .values("user_id", "revoked_at", "expires_at")
        .first()
    )
    now = timezone.now()
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= now:
        return None
    state = session_active_state(row["user_id"])
    ttl = min(SESSION_STATE_CACHE_SECONDS, int((row["expires_at"] - now).total_seconds()))
    if ttl > 0:
        cache.add(session_state_key(session_id), state, ttl)
    return state


def _record_seen(session_id: str) -> None:
    """Write last_seen_at at most once a minute per session."""
    if cache.add(_seen_key(session_id), 1, SEEN_WRITE_INTERVAL_SECONDS):
        LoginSession.objects.filter(pk=session_id).update(last_seen_at=timezone.now())


def user_load(user_id: int | str) -> User | None:
    """The user with its role and tenant from the database, cached for the next request."""
    user = User.objects.select_related("role", "tenant").filter(pk=user_id).first()
    if user is not None:
        cache.add(user_cache_key(user_id), user, USER_CACHE_SECONDS)
    return user


def user_cached(user_id: int) -> User | None:
    """The user as an authenticated request sees it: this process's or the cache's
    copy (dropped by every service that can take rights away), else the row."""
    key = user_cache_key(user_id)
    return cache_mirror.get_many([key]).get(key) or user_load(user_id)


def user_for_access_token(*, session_id: str, user_id: str) -> User | None:
    """The token's user while its login session is live and is that user's; else None."""
    owner_id = user_id_from_claim(user_id)
    try:
        session_id = str(UUID(session_id))
    except (TypeError, ValueError, AttributeError):
        return None
    if owner_id is None:
        return None
    state_key, seen_key, user_key = (
        session_state_key(session_id),
        _seen_key(session_id),
        user_cache_key(owner_id),
    )
    found = cache_mirror.get_many([state_key, seen_key, user_key])
    # A revoked session, another user's session, or (from an older release) a state
    # without its owner: only the last one is worth a look at the row.
    state = found.get(state_key)
    if state is None or state == SESSION_ACTIVE:
        state = _session_row_state(session_id)
    if state != session_active_state(owner_id):
        return None
    if seen_key not in found:
        _record_seen(session_id)
    return found.get(user_key) or user_load(owner_id)
