from django.http import HttpRequest

from accounts.sessions import ClientInfo
from security.client_ip import client_ip_or_none


def client_info(request: HttpRequest) -> ClientInfo:
    """Who is calling: the same client address the firewall and the audit log see."""
    return ClientInfo(
        ip_address=client_ip_or_none(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
    )
