"""Events of failed logins and lockouts: Django and django-axes report them only
through their signals (`security.signals` counts the same signals for the firewall).

No typed identifier ever goes into an event: it may be a password typed in the
wrong field. Only the account behind it, when there is one.
"""

from axes.helpers import get_failure_limit
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from accounts import emails
from events.catalog import EventType
from events.services import event_record, user_event_record
from security.lockout import account_of_key, lockout_key


@receiver(user_login_failed, dispatch_uid="accounts_login_failed_event")
def login_failed_event(sender, credentials: dict, request=None, **kwargs) -> None:
    if request is None:
        return
    user = kwargs.get("user") or account_of_key(lockout_key(credentials.get("username")))
    purpose = kwargs.get("purpose") or "login"
    if user is None:
        event_record(
            actor=None,
            type=EventType.LOGIN_FAILED,
            tenant_id=None,
            data={"user_id": None, "tenant_id": None, "purpose": purpose},
        )
        return
    user_event_record(actor=None, type=EventType.LOGIN_FAILED, user=user, purpose=purpose)


@receiver(user_locked_out, dispatch_uid="accounts_account_locked_event")
def account_locked_event(sender, request=None, username=None, **kwargs) -> None:
    """Once per lockout: on the failure that reaches the limit, not on each refused
    attempt while the lock lasts."""
    failures = getattr(request, "axes_failures_since_start", None)
    if request is None or failures is None:
        return
    credentials = getattr(request, "axes_credentials", None)
    if failures != get_failure_limit(request, credentials):
        return
    user = account_of_key(username)
    if user is None:
        return
    user_event_record(actor=None, type=EventType.ACCOUNT_LOCKED, user=user, failures=failures)
    emails.send_on_commit(user, emails.ACCOUNT_LOCKOUT)
