"""The client's IP address, believing X-Forwarded-For only from TRUSTED_PROXIES.

Walks the forwarded chain from the right (the hop closest to us) and returns the
first address that is not a trusted proxy; a header sent by anyone else is ignored.
An IPv4 address in IPv6 clothing (`::ffff:1.2.3.4`) is the IPv4 address. Budgets
and blocks count an IPv6 client by its /64 (`ip_limit_key`): one host usually
holds a whole /64, and would otherwise get a fresh budget per address.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

# Who sent a request whose client cannot be told: an address no allowlist names.
UNKNOWN_CLIENT = "0.0.0.0"  # noqa: S104 - not a bind address


@lru_cache(maxsize=8)
def _trusted_networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(ip: str) -> bool:
    address = _address(ip)
    if address is None:
        return False
    return any(address in net for net in _trusted_networks(tuple(settings.TRUSTED_PROXIES)))


def ip_limit_key(ip: str) -> str:
    """What request budgets and IP blocks count this address under: itself, or its /64."""
    address = _address(ip)
    if address is None:
        return ip
    if address.version == 6:
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


def client_ip(request: HttpRequest) -> str:
    """The address to rate-limit, block and record for this request."""
    cached = getattr(request, "_client_ip", None)
    if cached:
        return cached
    remote = request.META.get("REMOTE_ADDR") or UNKNOWN_CLIENT
    address = _address(remote)
    ip = str(address) if address is not None else remote
    if _is_trusted(ip):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
            address = _address(hop)
            if address is None:
                # The proxy named a client we cannot read (`ip:port`, `unknown`): it is
                # not the proxy, whose address may open monitoring or the allowlist.
                ip = UNKNOWN_CLIENT
                break
            ip = str(address)
            if not _is_trusted(ip):
                break
    request._client_ip = ip
    return ip


def client_ip_or_none(request: HttpRequest) -> str | None:
    """`client_ip` for a record (an IP address column): None when it is not an address."""
    ip = client_ip(request)
    return ip if _address(ip) is not None else None


def axes_client_ip(request: HttpRequest) -> str:
    return client_ip(request)
