"""Turn authentication and admin signals into firewall counts, events and audit rows.

Receivers here only for what another package owns and offers no other hook for:
Django's failed-login signal, axes' lockout and the admin's LogEntry of third-party
models. A change this project makes writes its record (and drops any cache) in the
service that makes it, never in a receiver.
"""

from axes.signals import user_locked_out
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from security.client_ip import client_ip
from security.lockout import account_of_key, normalize_identifier
from security.models import SecurityEvent, Severity, admin_page_action
from security.services.audit import audit_record
from security.services.events import security_event_record
from security.services.firewall import failed_authentication_register


@receiver(user_login_failed, dispatch_uid="security_login_failed")
def login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    """A failed login, or a wrong password of a logged-in user (`purpose` says which)."""
    if request is None:
        return
    username = normalize_identifier(credentials.get("username")) or ""
    ip = client_ip(request)
    purpose = kwargs.get("purpose")
    security_event_record(
        kind=SecurityEvent.Kind.LOGIN_FAILED,
        severity=Severity.WARNING,
        user=kwargs.get("user"),
        username=username,
        details={"purpose": purpose} if purpose else None,
    )
    failed_authentication_register(ip=ip, username=username)


@receiver(user_locked_out, dispatch_uid="security_account_locked")
def account_locked(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    # `username` is the lockout key: name the account behind it when there is one.
    user = account_of_key(username)
    security_event_record(
        kind=SecurityEvent.Kind.ACCOUNT_LOCKED,
        severity=Severity.CRITICAL,
        user=user,
        username="" if user else username or "",
        ip_address=ip_address,
        details={"lockout_key": username} if username else None,
    )


# Apps whose admin pages write their own detailed audit rows (AuditedModelAdmin, or
# the services their pages call).
_APPS_WITH_DETAILED_ADMIN_AUDIT = frozenset(
    {"accounts", "tenants", "security", "credits", "apikeys", "messagelog", "oauth"}
)
_LOG_ENTRY_VERBS = {ADDITION: "create", CHANGE: "update", DELETION: "delete"}


# The admin's pages of third-party models (groups, schedules, tokens, devices) have no
# service to write their audit row: the admin's own LogEntry is the only hook Django
# offers for them, so this receiver stays a receiver.
@receiver(post_save, sender=LogEntry, dispatch_uid="security_admin_log_entry")
def admin_change_of_other_apps(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    """Audit admin changes to third-party models (groups, schedules, tokens, devices)."""
    content_type = instance.content_type
    if (
        not created
        or content_type is None
        or content_type.app_label in _APPS_WITH_DETAILED_ADMIN_AUDIT
    ):
        return
    audit_record(
        action=admin_page_action(
            content_type.model, _LOG_ENTRY_VERBS.get(instance.action_flag, "change")
        ),
        actor=instance.user,
        target_type=f"{content_type.app_label}.{content_type.model}",
        target_id=instance.object_id or "",
        changes={"summary": instance.get_change_message(), "object": instance.object_repr},
    )
