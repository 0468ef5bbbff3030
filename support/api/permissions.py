"""Who may read the operational details (/api/v1/health/detailed and /metrics), and
who may create admins (super admins only).

Both tell an attacker a lot (versions, dependencies, queue depths, request counts
per view). They answer requests from MONITORING_ALLOWED_IPS (addresses or CIDR
networks; loopback by default), where a Prometheus scraper without a token lives,
and platform administrators with a token from anywhere; everyone else hears 403.
The client address is `security.client_ip.client_ip`, so behind a proxy
TRUSTED_PROXIES must name it (else every request seems to come from the proxy).
The plain probes (/health, /api/v1/health, ready, live) stay open.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from rest_framework.permissions import BasePermission

from accounts.authz.permissions import IsPlatformAdmin
from security.client_ip import client_ip
from support.errors import SupportErrorCode

REFUSED_MESSAGE = (
    "Only monitoring addresses (MONITORING_ALLOWED_IPS) and platform administrators may read this."
)


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def ip_may_monitor(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.MONITORING_ALLOWED_IPS)))


class MonitoringAccess(BasePermission):
    message = REFUSED_MESSAGE
    code = SupportErrorCode.MONITORING_NOT_ALLOWED

    def has_permission(self, request, view) -> bool:
        return ip_may_monitor(client_ip(request)) or IsPlatformAdmin().has_permission(request, view)


class IsSuperAdmin(BasePermission):
    """Super admins (`is_superuser`) only: creating admins."""

    message = "Only super admins may do this."

    def has_permission(self, request, view) -> bool:
        return bool(getattr(request.user, "is_superuser", False))
