"""The IP allowlist for staff surfaces (IP_WHITELIST_ENABLED)."""

import ipaddress
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.errors import CommonErrorCode, NotFound, ValidationFailed
from security.errors import SecurityErrorCode
from security.models import AuditAction, IPAllowlistEntry
from security.services.audit import audit_record

_CACHE_KEY = "ip-allowlist:entries"
_CACHE_SECONDS = 30


def _entries() -> list[tuple[object, datetime | None]]:
    entries = cache.get(_CACHE_KEY)
    if entries is None:
        entries = [
            (ipaddress.ip_network(network, strict=False), expires_at)
            for network, expires_at in IPAllowlistEntry.objects.values_list("network", "expires_at")
        ]
        cache.set(_CACHE_KEY, entries, _CACHE_SECONDS)
    return entries


def allowlist_cache_clear() -> None:
    cache.delete(_CACHE_KEY)


def ip_is_allowlisted(ip: str) -> bool:
    """Whether an unexpired entry covers this IP (expiry is judged now, not when cached)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    now = timezone.now()
    return any(
        address in network and (expires_at is None or expires_at > now)
        for network, expires_at in _entries()
    )


def normalize_network(value: str) -> str:
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError as exc:
        raise ValidationFailed(
            f"{value!r} is not an IP address or CIDR network.",
            code=SecurityErrorCode.INVALID_NETWORK,
        ) from exc
    return str(network.network_address) if network.num_addresses == 1 else str(network)


@transaction.atomic
def allowlist_entry_create(
    *, network: str, description: str = "", expires_at: datetime | None, actor
) -> IPAllowlistEntry:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(
            "expires_at must be in the future.", code=CommonErrorCode.INVALID_EXPIRY
        )
    entry = IPAllowlistEntry.objects.create(
        network=normalize_network(network),
        description=description,
        expires_at=expires_at,
        created_by_id=actor.pk,
    )
    audit_record(
        action=AuditAction.IP_ALLOWLIST_CREATE,
        actor=actor,
        target=entry,
        changes={"network": entry.network, "expires_at": expires_at},
    )
    allowlist_cache_clear()
    return entry


@transaction.atomic
def allowlist_entry_delete(*, entry_id: int, actor) -> None:
    entry = IPAllowlistEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise NotFound("No such allowlist entry.")
    audit_record(
        action=AuditAction.IP_ALLOWLIST_DELETE,
        actor=actor,
        target=entry,
        changes={"network": entry.network},
    )
    entry.delete()
    allowlist_cache_clear()
