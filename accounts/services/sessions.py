"""Login sessions: start, rotate, revoke, and the cheap per-request liveness check.

A session row is the truth; the cache holds a short-lived copy of its state (read
per request by `accounts.auth.request_auth`). Revocation writes a tombstone that a
concurrent reader cannot overwrite (readers only `add`), so a revoked session is
refused at once by every process sharing the cache.
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.auth.jwt_tokens import (
    TokenPair,
    new_jti,
    refresh_token_claims,
    token_pair_for_session,
    user_id_from_claim,
)
from accounts.auth.request_auth import user_cached
from accounts.auth.request_cache import SESSION_REVOKED, session_state_key
from accounts.errors import AccountErrorCode
from accounts.models import LoginSession, User
from accounts.selectors import account_status_error
from core.cache_writes import set_many_or_fail
from core.errors import AuthenticationError
from events.catalog import EventType
from events.services import user_event_record
from security.models import ActorKind, AuditAction
from security.services.audit import audit_record

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ClientInfo:
    ip_address: str | None
    user_agent: str


def _access_lifetime(surface: str) -> timedelta:
    """/api/v1 keeps the short JWT_* access tokens; the /v1 logins hand out a session
    token of SESSION_DURATION_HOURS. Revocation is immediate either way: every request
    checks the session."""
    if surface == LoginSession.Surface.API:
        return settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    return timedelta(hours=settings.SESSION_DURATION_HOURS)


def _revoked_ttl_seconds() -> int:
    # After this no access token of the session can still be inside its lifetime.
    longest = max(_access_lifetime(surface) for surface in LoginSession.Surface.values)
    return int(longest.total_seconds()) + 60


def _staff_session_cap(user: User) -> timedelta | None:
    """Staff sessions end this long after the login, whichever login opened them."""
    if user.is_superuser or user.is_staff:
        return timedelta(hours=settings.ADMIN_SESSION_DURATION_HOURS)
    if user.support_level:
        return timedelta(hours=settings.SUPPORT_SESSION_DURATION_HOURS)
    return None


def _session_expiry(session: LoginSession, *, now) -> datetime:
    """A refresh moves the end forward, except past a staff session's cap."""
    if session.surface == LoginSession.Surface.API and not session.remember_me:
        lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    else:
        lifetime = timedelta(days=settings.REFRESH_TOKEN_DURATION_DAYS)
    cap = _staff_session_cap(session.user)
    if cap is None:
        return now + lifetime
    return min(now + lifetime, session.created_at + cap)


def _token_pair(session: LoginSession) -> TokenPair:
    return token_pair_for_session(
        user=session.user, session=session, access_lifetime=_access_lifetime(session.surface)
    )


# Inside a caller's transaction (a login's) no savepoint: a failure here fails it whole.
@transaction.atomic(savepoint=False)
def session_start(
    *,
    user: User,
    client: ClientInfo,
    surface: str = LoginSession.Surface.API,
    remember_me: bool = False,
    mfa_verified: bool = False,
) -> TokenPair:
    """Open a login session for a user whose credentials were proven."""
    now = timezone.now()
    session = LoginSession(
        user=user,
        ip_address=client.ip_address,
        user_agent=client.user_agent[:512],
        surface=surface,
        remember_me=remember_me,
        mfa_verified=mfa_verified,
        refresh_jti=new_jti(),
        created_at=now,
        last_seen_at=now,
    )
    session.expires_at = _session_expiry(session, now=now)
    session.save(force_insert=True)
    audit_record(
        action=AuditAction.SESSION_START,
        actor=user,
        actor_kind=ActorKind.USER,
        target=session,
        tenant_id=user.tenant_id,
        changes={"surface": surface, "remember_me": remember_me, "mfa": mfa_verified},
    )
    user_event_record(
        actor=user,
        type=EventType.LOGIN_SUCCEEDED,
        user=user,
        session_id=str(session.pk),
        surface=surface,
        mfa=mfa_verified,
    )
    logger.info("login_session_started", user_id=user.pk, session_id=str(session.pk))
    return _token_pair(session)


def session_refresh(*, raw_refresh_token: str, client: ClientInfo) -> tuple[User, TokenPair]:
    """Rotate a refresh token: the old one dies, a new pair is issued.

    A routine refresh (the session's current jti, from the client its row last saw)
    is one conditional UPDATE and writes no audit row. Anything else takes the locked
    path: of any number of concurrent refreshes with one token exactly one succeeds, a
    token that was already rotated is re-use (the whole session is revoked, audited),
    and a rotation from another IP address or user agent is audited with both.

    The account is read as every authenticated request reads it (the cached copy,
    which the services that suspend, delete or demote it drop): suspension and a
    password change also revoke the sessions, and the session row decides.
    """
    claims = refresh_token_claims(raw_refresh_token)
    invalid = AuthenticationError(
        "Refresh token is invalid or expired.", code=AccountErrorCode.INVALID_TOKEN
    )
    try:
        session_id = UUID(str(claims["sid"]))
    except ValueError as exc:
        raise invalid from exc
    user_id = user_id_from_claim(claims["user_id"])
    user = None if user_id is None else user_cached(user_id)
    if user is None:
        raise invalid
    client = ClientInfo(client.ip_address, client.user_agent[:512])
    session = None
    if account_status_error(user) is None:
        session = _rotate_if_routine(
            session_id=session_id,
            user=user,
            presented_jti=claims["jti"],
            client=client,
            now=timezone.now(),
        )
    if session is None:
        session = _refresh_locked(
            session_id=session_id, user=user, presented_jti=claims["jti"], client=client
        )
    # Signed once the row is committed: the new jti is the live one.
    return user, _token_pair(session)


def _expiry_parameters(user: User, now) -> dict:
    """What `_session_expiry` needs, as statement parameters (the row supplies the rest)."""
    return {
        "api": LoginSession.Surface.API,
        "short_end": now + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"],
        "long_end": now + timedelta(days=settings.REFRESH_TOKEN_DURATION_DAYS),
        "cap": _staff_session_cap(user),
    }


_ROUTINE_ROTATION_SQL = """
UPDATE {table} SET
    refresh_jti = %(new_jti)s,
    last_seen_at = %(now)s,
    expires_at = {new_expiry}
WHERE id = %(session_id)s AND user_id = %(user_id)s
    AND refresh_jti = %(presented_jti)s
    AND revoked_at IS NULL AND expires_at > %(now)s
    AND ip_address IS NOT DISTINCT FROM %(ip_address)s::inet
    AND user_agent = %(user_agent)s
    AND {new_expiry} > %(now)s
RETURNING expires_at, surface, remember_me, mfa_verified, created_at
"""

# `_session_expiry` in SQL; PostgreSQL's LEAST ignores the NULL of an uncapped account.
_NEW_EXPIRY_SQL = (
    "LEAST(CASE WHEN surface = %(api)s AND NOT remember_me"
    " THEN %(short_end)s ELSE %(long_end)s END, created_at + %(cap)s::interval)"
)


def _rotate_if_routine(
    *, session_id: UUID, user: User, presented_jti: str, client: ClientInfo, now
) -> LoginSession | None:
    """The routine rotation in one statement, or None when it does not apply.

    The UPDATE matches only a live session whose current jti was presented, from the
    IP address and user agent the row last saw, whose new end is still ahead (a staff
    cap): a single statement, so concurrent refreshes with one token cannot both
    match. None sends the caller down the locked path, which tells re-use, an unknown
    or ended session and a changed client apart. On other databases than PostgreSQL
    every refresh takes the locked path.
    """
    if connection.vendor != "postgresql":
        return None
    new = new_jti()
    sql = _ROUTINE_ROTATION_SQL.format(
        table=connection.ops.quote_name(LoginSession._meta.db_table), new_expiry=_NEW_EXPIRY_SQL
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "new_jti": new,
                "now": now,
                "session_id": session_id,
                "user_id": user.pk,
                "presented_jti": presented_jti,
                "ip_address": client.ip_address,
                "user_agent": client.user_agent,
                **_expiry_parameters(user, now),
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    expires_at, surface, remember_me, mfa_verified, created_at = row
    return LoginSession(
        pk=session_id,
        user=user,
        refresh_jti=new,
        expires_at=expires_at,
        surface=surface,
        remember_me=remember_me,
        mfa_verified=mfa_verified,
        created_at=created_at,
        last_seen_at=now,
        ip_address=client.ip_address,
        user_agent=client.user_agent,
    )


def _refresh_locked(
    *, session_id: UUID, user: User, presented_jti: str, client: ClientInfo
) -> LoginSession:
    """Every refresh the one statement did not rotate, decided on the locked row."""
    invalid = AuthenticationError(
        "Refresh token is invalid or expired.", code=AccountErrorCode.INVALID_TOKEN
    )
    reused = capped = False
    with transaction.atomic():
        try:
            session = LoginSession.objects.select_for_update().get(pk=session_id, user_id=user.pk)
        except LoginSession.DoesNotExist:
            raise invalid from None
        session.user = user
        now = timezone.now()
        if not session.is_active_at(now):
            raise invalid
        if session.refresh_jti != presented_jti:
            # Nobody retries this one: the revocation must commit (the row alone stops
            # refreshing), even when the cache cannot take its tombstone.
            _revoke_locked(
                session,
                reason=LoginSession.RevokeReason.REFRESH_REUSE,
                now=now,
                actor=None,
                tombstone_required=False,
            )
            reused = True
        else:
            status_error = account_status_error(user)
            if status_error:
                raise status_error
            expires_at = _session_expiry(session, now=now)
            if expires_at <= now:
                # The account became staff after this login and the staff cap has
                # passed: the session ends here instead of handing out dead tokens.
                session.expires_at = expires_at
                session.save(update_fields=["expires_at"])
                _write_tombstones([str(session.pk)], required=False)
                capped = True
            else:
                _rotate_locked(session, client=client, expires_at=expires_at, now=now)
    if capped:
        raise invalid
    if reused:
        logger.warning("refresh_token_reuse", user_id=user.pk, session_id=str(session.pk))
        raise AuthenticationError(
            "Refresh token was already used; the session has been revoked.",
            code=AccountErrorCode.REFRESH_TOKEN_REUSED,
        )
    return session


def _rotate_locked(session: LoginSession, *, client: ClientInfo, expires_at, now) -> None:
    """Rotate on the locked row; a change of IP address or user agent is audited."""
    before = {"ip_address": session.ip_address, "user_agent": session.user_agent}
    after = {"ip_address": client.ip_address, "user_agent": client.user_agent}
    session.refresh_jti = new_jti()
    session.last_seen_at = now
    session.expires_at = expires_at
    session.ip_address = client.ip_address
    session.user_agent = client.user_agent
    session.save(
        update_fields=["refresh_jti", "last_seen_at", "expires_at", "ip_address", "user_agent"]
    )
    # Only the address matters to equality: the column stores a normalised form.
    same_client = (
        _normalised_ip(before["ip_address"]) == _normalised_ip(after["ip_address"])
        and before["user_agent"] == after["user_agent"]
    )
    if not same_client:
        audit_record(
            action=AuditAction.SESSION_REFRESH,
            actor=session.user,
            actor_kind=ActorKind.USER,
            target=session,
            tenant_id=session.user.tenant_id,
            changes={"from": before, "to": after},
        )


def _normalised_ip(address: str | None) -> str | None:
    return None if address is None else str(ipaddress.ip_address(address))


def _revoke_locked(
    session: LoginSession, *, reason: str, now, actor, tombstone_required: bool = True
) -> None:
    session.revoked_at = now
    session.revoked_reason = reason
    session.save(update_fields=["revoked_at", "revoked_reason"])
    audit_record(
        action=AuditAction.SESSION_REVOKE,
        actor=actor,
        target=session,
        tenant_id=session.user.tenant_id,
        changes={"reason": reason},
    )
    _write_tombstones([str(session.pk)], required=tombstone_required)


def _write_tombstones(session_ids: list[str], *, required: bool = True) -> None:
    """Mark sessions revoked in the cache before the revoking transaction commits.

    Written first so no request slips through between commit and cache write; a
    rolled-back revocation errs on the safe side (the session stays refused).
    """
    set_many_or_fail(
        {session_state_key(sid): SESSION_REVOKED for sid in session_ids},
        _revoked_ttl_seconds(),
        required=required,
    )


@transaction.atomic
def session_revoke(*, session_id: str, reason: str, actor) -> bool:
    """Revoke one session; its access and refresh tokens stop working at once."""
    session = (
        LoginSession.objects.select_for_update()
        .select_related("user")
        .filter(pk=session_id)
        .first()
    )
    if session is None or session.revoked_at is not None:
        return False
    _revoke_locked(session, reason=reason, now=timezone.now(), actor=actor)
    logger.info("login_session_revoked", session_id=session_id, reason=reason)
    return True


def sessions_revoke_each(session_ids, *, reason: str, actor) -> int:
    """Revoke these sessions one by one, each audited; how many of them were live."""
    return sum(session_revoke(session_id=str(pk), reason=reason, actor=actor) for pk in session_ids)


@transaction.atomic
def sessions_revoke_for_user(*, user: User, reason: str, actor) -> int:
    """Revoke every live session of a user (password change, suspension)."""
    return _revoke_live(
        LoginSession.objects.filter(user=user), target=user, reason=reason, actor=actor
    )


@transaction.atomic
def sessions_revoke_for_tenant(*, tenant, reason: str, actor) -> int:
    """Revoke every live session of a tenant's members, with set-based writes."""
    return _revoke_live(
        LoginSession.objects.filter(user__tenant=tenant), target=tenant, reason=reason, actor=actor
    )


def _revoke_live(sessions, *, target, reason: str, actor) -> int:
    live = sessions.filter(revoked_at__isnull=True)
    rows = list(live.values_list("pk", flat=True))
    if not rows:
        return 0
    live.update(revoked_at=timezone.now(), revoked_reason=reason)
    audit_record(
        action=AuditAction.SESSION_REVOKE_ALL,
        actor=actor,
        target=target,
        changes={"reason": reason, "sessions": len(rows)},
    )
    _write_tombstones([str(pk) for pk in rows])
    logger.info("login_sessions_revoked", target=str(target.pk), count=len(rows), reason=reason)
    return len(rows)
