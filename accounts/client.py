from django.http import HttpRequest

from accounts.sessions import ClientInfo


def client_info(request: HttpRequest) -> ClientInfo:
    """Who is calling, as far as the transport tells us.

    REMOTE_ADDR only: trusting forwarded headers needs a configured proxy list.
    """
    return ClientInfo(
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
    )
