"""API keys: issue, regenerate, rotate, revoke, and check one presented by a client.

A key is shown in clear exactly once. Checking a key costs one cache read when
warm; revocation writes a tombstone that readers cannot overwrite, so a revoked
key is refused at once by every process sharing the cache.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.auth.request_auth import user_load
from accounts.auth.request_cache import user_cache_key
from accounts.authz import rules as authz
from accounts.authz.keys import (
    KEY_MANAGEMENT_SCOPES,
    is_staff_account,
    management_part,
    scopes_allow,
)
from accounts.authz.roles import Permission
from accounts.models import User
from apikeys.errors import APIKeyErrorCode
from apikeys.models import APIKey
from core import cache_mirror
from core.cache_writes import set_many_or_fail
from core.errors import CommonErrorCode, Conflict, Forbidden, NotFound, ValidationFailed
from events.catalog import EventType
from events.services import user_event_record
from security.models import AuditAction
from security.services.audit import audit_record

KEY_PREFIX = "pe-"
BASE_SCOPES = {"read", "write"}
_SCOPE = re.compile(r"^[a-z][a-z0-9_]*:(\*|[a-z][a-z0-9_]*)$")
_DURATION = re.compile(r"^(\d{1,5})([dhm])$")
MAX_EXPIRY = timedelta(days=36_525)  # 100 years
_REVOKED = "revoked"
_VALID_CACHE_SECONDS = 300
_USED_WRITE_INTERVAL_SECONDS = 60


@dataclass(frozen=True)
class IssuedKey:
    key: APIKey
    clear: str


@dataclass(frozen=True)
class KeyIdentity:
    """What a checked key grants: its owner and scopes (the owner's limits still apply)."""

    key_id: int
    user_id: int
    scopes: tuple[str, ...]

    def allows(self, permission: str) -> bool:
        """The scope rule of `accounts.authz.keys`: management permissions only when
        named exactly; others by `write`, `read`, `action:*` or their name."""
        return scopes_allow(self.scopes, permission)


def digest_of(clear: str) -> str:
    return hashlib.sha256(clear.encode()).hexdigest()


def _cache_key(digest: str) -> str:
    return f"apikey:{digest}"


DEFAULT_SCOPES = ["read", "write"]


def _validate_scopes(scopes: list[str] | None) -> list[str]:
    """The key's scopes; none given means the default, an empty list is refused (a
    key that can do nothing is a mistake, never a reason to grant everything)."""
    if scopes is None:
        return list(DEFAULT_SCOPES)
    if not scopes:
        raise ValidationFailed(
            "Name at least one scope, or leave scopes out for read and write.",
            errors=["scopes: an empty list grants nothing"],
            code=APIKeyErrorCode.INVALID_SCOPE,
        )
    bad = [scope for scope in scopes if scope not in BASE_SCOPES and not _SCOPE.match(str(scope))]
    if bad:
        raise ValidationFailed(
            "Scopes are read, write, or permission strings such as read:models.",
            errors=[f"scopes: {scope!r} is not a scope" for scope in bad],
            code=APIKeyErrorCode.INVALID_SCOPE,
        )
    session_only = sorted(management_part(scopes) - KEY_MANAGEMENT_SCOPES)
    if session_only:
        raise ValidationFailed(
            "Of the management permissions a key may carry only "
            f"{', '.join(sorted(KEY_MANAGEMENT_SCOPES))}; deleting accounts and managing "
            "the tenant need a login session.",
            errors=[f"scopes: {scope!r} cannot be given to a key" for scope in session_only],
            code=APIKeyErrorCode.INVALID_SCOPE,
        )
    return sorted(set(scopes))


def _check_management_scopes(*, user: User, actor: User, scopes: list[str]) -> None:
    """A management scope goes only on a key of an ordinary account whose role holds
    it now, made by someone who holds it too; platform staff manage with a login."""
    wanted = sorted(management_part(scopes))
    if not wanted:
        return
    if is_staff_account(user) or is_staff_account(actor):
        raise Forbidden(
            "Keys of platform administrators and support staff cannot carry management "
            f"scopes ({', '.join(wanted)}); staff manage with a login session.",
            code=APIKeyErrorCode.API_KEY_STAFF_ACCOUNT,
        )
    missing = [
        scope
        for scope in wanted
        if scope not in authz.role_permissions_of(user) or scope not in authz.permissions_of(actor)
    ]
    if missing:
        raise Forbidden(
            f"A key can carry only permissions its owner holds: {', '.join(missing)} "
            "is not in your role.",
            errors=[f"scopes: {scope!r} is not held" for scope in missing],
            code=APIKeyErrorCode.SCOPE_NOT_HELD,
        )


def _parse_expiry(value: str | None) -> datetime | None:
    """`30d`, `12h`, `90m`, an ISO date or date-time, or nothing (never expires)."""
    if not value:
        return None
    now = timezone.now()
    match = _DURATION.match(value.strip())
    if match:
        amount, unit = int(match[1]), match[2]
        if amount == 0:
            raise ValidationFailed(
                "The expiry must be in the future.", code=CommonErrorCode.INVALID_EXPIRY
            )
        span = timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: amount})
        return _within_reach(now + span, now)
    try:
        moment = parse_datetime(value)
        day = None if moment else parse_date(value)
    except ValueError:  # well formed but impossible, such as 2030-02-30
        moment = day = None
    if day is not None:
        moment = datetime.combine(day, datetime.min.time())
    if moment is None:
        raise ValidationFailed(
            "expires_in is like 30d, 12h, or a date.", code=CommonErrorCode.INVALID_EXPIRY
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    if moment <= now:
        raise ValidationFailed(
            "The expiry must be in the future.", code=CommonErrorCode.INVALID_EXPIRY
        )
    return _within_reach(moment, now)


def _within_reach(moment: datetime, now: datetime) -> datetime:
    # The database stores moments up to the year 9999 only; a key that should never
    # expire leaves expires_in out.
    if moment - now > MAX_EXPIRY:
        raise ValidationFailed(
            "The expiry must be within 100 years; leave expires_in out for no expiry.",
            code=CommonErrorCode.INVALID_EXPIRY,
        )
    return moment.astimezone(UTC)


def _new_clear_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)  # 32 URL-safe characters


def _issue(*, user: User, name: str, scopes: list[str], expires_at, is_primary: bool) -> IssuedKey:
    clear = _new_clear_key()
    key = APIKey.objects.create(
        user=user,
        name=name,
        prefix=clear[3:11],
        last4=clear[-4:],
        digest=digest_of(clear),
        scopes=scopes,
        expires_at=expires_at,
        is_primary=is_primary,
    )
    user_event_record(
        actor=None,
        type=EventType.API_KEY_CREATED,
        user=user,
        key_id=key.pk,
        prefix=key.prefix,
        name=name,
        scopes=list(scopes),
    )
    return IssuedKey(key=key, clear=clear)


@transaction.atomic
def apikey_create(
    *,
    user: User,
    name: str,
    scopes: list[str] | None = None,
    expires_in: str | None = None,
    actor: User,
) -> IssuedKey:
    """A new key of `user`'s, shown in clear once; `actor` is who asked (the owner).
    Management scopes need the owner and the actor to hold them (403 otherwise); the
    audit row names the scopes."""
    scopes = _validate_scopes(scopes)
    _check_management_scopes(user=user, actor=actor, scopes=scopes)
    issued = _issue(
        user=user,
        name=name,
        scopes=scopes,
        expires_at=_parse_expiry(expires_in),
        is_primary=False,
    )
    audit_record(
        action=AuditAction.API_KEY_CREATE,
        actor=actor,
        target=issued.key,
        tenant_id=user.tenant_id,
        changes={"name": name, "scopes": issued.key.scopes, "key": issued.key.masked},
    )
    return issued


def _lock_keys_of(user: User) -> None:
    """Serialise key changes per owner: two regenerations (a double click, a retried
    request) then run one after the other, and the second replaces the first's key."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()


@transaction.atomic
def apikey_regenerate_primary(*, user: User, actor: User) -> IssuedKey:
    """The account's primary key, new; the old one dies at once. `actor` is who asked:
    the owner, who also stands for the account being registered."""
    _lock_keys_of(user)
    for old in APIKey.objects.select_for_update().filter(
        user=user, is_primary=True, revoked_at__isnull=True
    ):
        _revoke(old, actor=actor, action=AuditAction.API_KEY_REGENERATE)
    issued = _issue(
        user=user, name="primary", scopes=list(DEFAULT_SCOPES), expires_at=None, is_primary=True
    )
    audit_record(
        action=AuditAction.API_KEY_CREATE,
        actor=actor,
        target=issued.key,
        tenant_id=user.tenant_id,
        changes={"name": "primary", "key": issued.key.masked},
    )
    return issued


def _revoke(key: APIKey, *, actor, action: str) -> None:
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    set_many_or_fail({_cache_key(key.digest): _REVOKED}, _VALID_CACHE_SECONDS + 60)
    audit_record(
        action=action,
        actor=actor,
        target=key,
        tenant_id=key.user.tenant_id,
        changes={"key": key.masked},
    )
    user_event_record(
        actor=actor, type=EventType.API_KEY_REVOKED, user=key.user, key_id=key.pk, prefix=key.prefix
    )


def apikey_revoke(*, key: APIKey, actor: User) -> APIKey:
    """Its owner may revoke a key; so may staff with the right to change the owner."""
    if key.user_id != actor.pk and not authz.can(actor, Permission.WRITE_USERS, key.user):
        raise Forbidden(code=CommonErrorCode.PERMISSION_DENIED)
    return apikey_revoke_on_behalf(key=key, actor=actor)


@transaction.atomic
def apikey_revoke_on_behalf(*, key: APIKey, actor: User) -> APIKey:
    """`apikey_revoke` without the ownership or role check, for a caller that has
    decided by its own rule that the actor may (the support levels of `/v1/support`).
    Revoking a revoked key changes nothing."""
    key = APIKey.objects.select_for_update().select_related("user").get(pk=key.pk)
    if key.revoked_at is None:
        _revoke(key, actor=actor, action=AuditAction.API_KEY_REVOKE)
    return key


@transaction.atomic
def apikey_rotate(*, key: APIKey, actor: User) -> IssuedKey:
    """A new key with the same name, scopes and expiry; the old one dies at once.

    Only a live key can be rotated, once: a second rotation of the same key (a retry)
    finds it revoked and is refused, so no second replacement exists unseen. Only
    its owner rotates a key.
    """
    if key.user_id != actor.pk:
        raise Forbidden(code=CommonErrorCode.PERMISSION_DENIED)
    return apikey_rotate_on_behalf(key=key, actor=actor)


@transaction.atomic
def apikey_rotate_on_behalf(*, key: APIKey, actor: User) -> IssuedKey:
    """`apikey_rotate` without the ownership check, for a caller that has decided by
    its own rule that the actor may (the support levels of `/v1/support`); the same
    refusals of a revoked or expired key. The new key is a new key in someone's hands:
    its management scopes pass the rules of making one (`_check_management_scopes`),
    so staff never receive one and an owner keeps none they no longer hold."""
    _lock_keys_of(key.user)
    key = APIKey.objects.select_related("user").get(pk=key.pk)
    if key.revoked_at is not None:
        raise NotFound("No such API key.")
    if key.expires_at is not None and key.expires_at <= timezone.now():
        raise Conflict(
            "An expired key cannot be rotated; create a new one.",
            code=APIKeyErrorCode.API_KEY_EXPIRED,
        )
    _check_management_scopes(user=key.user, actor=actor, scopes=key.scopes)
    _revoke(key, actor=actor, action=AuditAction.API_KEY_ROTATE)
    issued = _issue(
        user=key.user,
        name=key.name,
        scopes=key.scopes,
        expires_at=key.expires_at,
        is_primary=key.is_primary,
    )
    audit_record(
        action=AuditAction.API_KEY_CREATE,
        actor=actor,
        target=issued.key,
        tenant_id=key.user.tenant_id,
        changes={"rotated_from": key.pk},
    )
    return issued


# digest -> owner id. A key never changes owner, so this per-process memo is always
# right; it lets the warm path read the owner in the same `get_many` as the key.
_OWNER_OF: dict[str, int] = {}
_OWNER_MEMO_SIZE = 10_000


def apikey_authenticate(clear: str) -> tuple[KeyIdentity, User] | None:
    """The identity and owner of a presented key, or None when it is unknown, revoked
    or expired. Warm, it costs no round trip: key state, "used recently" marker and
    owner are read in one `get_many` from this process's copies (core.cache_mirror),
    or from the cache in one round trip when there are none."""
    if not clear.startswith(KEY_PREFIX) or len(clear) != 35:
        return None
    digest = digest_of(clear)
    state_key, used_key = _cache_key(digest), f"apikey-used:{digest}"
    known_owner = _OWNER_OF.get(digest)
    owner_key = user_cache_key(known_owner) if known_owner is not None else None
    found = cache_mirror.get_many([key for key in (state_key, used_key, owner_key) if key])
    cached = found.get(state_key)
    if cached == _REVOKED:
        return None
    if cached is None:
        candidate = APIKey.objects.filter(prefix=clear[3:11]).usable().filter(digest=digest).first()
        if candidate is None or not hmac.compare_digest(candidate.digest, digest):
            return None
        cached = {
            "key_id": candidate.pk,
            "user_id": candidate.user_id,
            "scopes": tuple(candidate.scopes),
            "expires_at": candidate.expires_at,
        }
        cache.add(state_key, cached, _VALID_CACHE_SECONDS)
    if cached["expires_at"] is not None and cached["expires_at"] <= timezone.now():
        return None
    if used_key not in found and cache.add(used_key, 1, _USED_WRITE_INTERVAL_SECONDS):
        APIKey.objects.filter(pk=cached["key_id"]).update(last_used_at=timezone.now())
    if known_owner is None:
        if len(_OWNER_OF) >= _OWNER_MEMO_SIZE:
            _OWNER_OF.clear()
        _OWNER_OF[digest] = cached["user_id"]
    owner = (owner_key and found.get(owner_key)) or user_load(cached["user_id"])
    if owner is None:
        return None
    return KeyIdentity(cached["key_id"], cached["user_id"], tuple(cached["scopes"])), owner


def revoke_all_for_user(*, user: User, actor) -> int:
    """Used when an account stops being active: every key dies with it."""
    keys = list(APIKey.objects.filter(user=user, revoked_at__isnull=True))
    for key in keys:
        _revoke(key, actor=actor, action=AuditAction.API_KEY_REVOKE)
    return len(keys)
