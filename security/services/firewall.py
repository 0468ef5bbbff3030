"""The firewall: a per-IP request budget and temporary blocks after failed logins.

Counters and the "blocked until" marker live in the shared cache so every process
agrees; each block is also a database row that staff can list and lift.

FIREWALL_EXEMPT_LOOPBACK and FIREWALL_EXEMPT_ALLOWLISTED take loopback addresses and
addresses on the IP allowlist out of the blocks: their failures are not counted and
a block recorded for them is not enforced.
"""

import ipaddress
from dataclasses import dataclass
from datetime import timedelta

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.errors import NotFound, ValidationFailed
from security.client_ip import ip_limit_key
from security.models import AuditAction, IPBlock, SecurityEvent, Severity
from security.services.allowlist import ip_is_allowlisted
from security.services.audit import audit_record
from security.services.events import security_event_record

logger = structlog.get_logger(__name__)


def _failures_key(ip: str) -> str:
    return f"firewall-failures:{ip_limit_key(ip)}"


def _block_key(ip: str) -> str:
    """An IPv6 address is blocked with its /64; the block row keeps the full address."""
    return f"firewall-block:{ip_limit_key(ip)}"


def _window_seconds() -> int:
    return settings.FIREWALL_BLOCK_MINUTES * 60


def ip_exempt(ip: str) -> bool:
    """Whether this IP is never blocked: a loopback address under
    FIREWALL_EXEMPT_LOOPBACK, an allowlisted one under FIREWALL_EXEMPT_ALLOWLISTED."""
    if settings.FIREWALL_EXEMPT_LOOPBACK:
        try:
            if ipaddress.ip_address(ip).is_loopback:
                return True
        except ValueError:
            pass
    return settings.FIREWALL_EXEMPT_ALLOWLISTED and ip_is_allowlisted(ip)


def ip_blocked_until(ip: str):
    """When this IP's block ends, or None (one cache read; fails open)."""
    if ip_exempt(ip):
        return None
    until = cache.get(_block_key(ip))
    if until is None or until <= timezone.now():
        return None
    return until


def failed_authentication_register(*, ip: str, username: str | None = None) -> IPBlock | None:
    """Count a failed authentication from an IP; block it when the count reaches the limit."""
    if not settings.FIREWALL_ENABLED or ip_exempt(ip) or ip_blocked_until(ip) is not None:
        return None
    key = _failures_key(ip)
    if cache.add(key, 1, _window_seconds()):
        failures = 1
    else:
        try:
            failures = cache.incr(key)
        except ValueError:
            failures = 1
    if failures is None or failures < settings.FIREWALL_FAILED_ATTEMPTS:
        return None
    return ip_block(
        ip=ip, reason=f"{failures} failed authentications", username=username, actor=None
    )


def ip_block(*, ip: str, reason: str, username: str | None = None, actor) -> IPBlock:
    """Block an IP for FIREWALL_BLOCK_MINUTES (`actor=None`: the firewall itself)."""
    until = timezone.now() + timedelta(minutes=settings.FIREWALL_BLOCK_MINUTES)
    with transaction.atomic():
        block = IPBlock.objects.create(ip_address=ip, reason=reason, blocked_until=until)
        audit_record(
            action=AuditAction.IP_BLOCK, actor=actor, target=block, changes={"reason": reason}
        )
    cache.set(_block_key(ip), until, _window_seconds())
    cache.delete(_failures_key(ip))
    security_event_record(
        kind=SecurityEvent.Kind.IP_BLOCKED,
        severity=Severity.CRITICAL,
        username=username or "",
        ip_address=ip,
        details={"reason": reason, "blocked_until": until},
    )
    return block


@transaction.atomic
def ip_block_lift(*, block_id: int, actor) -> IPBlock:
    """End a block early (staff action, audited; `actor=None`: the system, a command)."""
    block = IPBlock.objects.select_for_update().filter(pk=block_id).first()
    if block is None:
        raise NotFound("No such IP block.")
    if block.lifted_at is None:
        block.lifted_at = timezone.now()
        block.lifted_by_id = getattr(actor, "pk", None)
        block.save(update_fields=["lifted_at", "lifted_by_id"])
        audit_record(action=AuditAction.IP_UNBLOCK, actor=actor, target=block)
        network = ip_limit_key(block.ip_address)
        still_blocked = any(
            ip_limit_key(ip) == network
            for ip in IPBlock.objects.active().values_list("ip_address", flat=True)
        )
        if not still_blocked:
            cache.delete(_block_key(block.ip_address))
    return block


@dataclass(frozen=True)
class Unblocked:
    blocks_lifted: int
    failures_cleared: bool


def ip_unblock(*, ip: str, actor) -> Unblocked:
    """Lift every active block of this address and forget its failed attempts
    (`actor=None`: the system, the `unblock_ip` command); each lift is audited."""
    try:
        ipaddress.ip_address(ip.strip())
    except ValueError as exc:
        raise ValidationFailed(f"{ip!r} is not an IP address.") from exc
    # Blocks hold as the firewall counts: an IPv6 address with its /64, `::ffff:a.b.c.d`
    # as a.b.c.d; so this address is freed whichever of its network's was blocked.
    network = ip_limit_key(ip.strip())
    block_ids = [
        block_id
        for block_id, blocked in IPBlock.objects.active().values_list("pk", "ip_address")
        if ip_limit_key(blocked) == network
    ]
    for block_id in block_ids:
        ip_block_lift(block_id=block_id, actor=actor)
    failures_cleared = bool(cache.delete(_failures_key(ip.strip())))
    logger.info("ip_unblocked", ip=network, blocks=len(block_ids))
    return Unblocked(blocks_lifted=len(block_ids), failures_cleared=failures_cleared)
