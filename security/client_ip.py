"""The client's IP address, believing X-Forwarded-For only from TRUSTED_PROXIES.

Walks the forwarded chain from the right (the hop closest to us) and returns the
first address that is not a trusted proxy; a header sent by anyone else is ignored.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=8)
def _trusted_networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _is_trusted(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in net for net in _trusted_networks(tuple(settings.TRUSTED_PROXIES)))


def _valid(ip: str) -> bool:
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return False
    return True


def client_ip(request: HttpRequest) -> str:
    """The address to rate-limit, block and record for this request."""
    cached = getattr(request, "_client_ip", None)
    if cached:
        return cached
    remote = request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 - unknown peer
    ip = remote
    if _is_trusted(remote):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
            if not _valid(hop):
                break
            ip = hop
            if not _is_trusted(hop):
                break
    request._client_ip = ip
    return ip


def axes_client_ip(request: HttpRequest) -> str:
    return client_ip(request)
