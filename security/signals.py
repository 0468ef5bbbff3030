"""Turn authentication signals into firewall counts and security events."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from security.client_ip import client_ip
from security.events import security_event_record
from security.firewall import failed_authentication_register
from security.lockout import normalize_identifier
from security.models import SecurityEvent, Severity


@receiver(user_login_failed, dispatch_uid="security_login_failed")
def login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    if request is None:
        return
    username = normalize_identifier(credentials.get("username")) or ""
    ip = client_ip(request)
    security_event_record(
        kind=SecurityEvent.Kind.LOGIN_FAILED, severity=Severity.WARNING, username=username
    )
    failed_authentication_register(ip=ip, username=username)


@receiver(user_locked_out, dispatch_uid="security_account_locked")
def account_locked(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    security_event_record(
        kind=SecurityEvent.Kind.ACCOUNT_LOCKED,
        severity=Severity.CRITICAL,
        username=username or "",
        ip_address=ip_address,
    )
