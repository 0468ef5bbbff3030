"""Unlocking an account locked by django-axes, on a staff member's word (audited)."""

from axes.utils import reset as axes_reset
from django.db import transaction

from security.lockout import account_id_of_key, account_of_key, lockout_key, normalize_identifier
from security.models import AuditAction, SecurityEvent, Severity
from security.services.audit import audit_record
from security.services.events import security_event_record


@transaction.atomic
def account_unlock(*, identifier: str, actor) -> int:
    """Clear the failures of an account, named by email, username or lockout key, any
    case, or of an unknown identifier (staff action, audited)."""
    given = (identifier or "").strip()
    key = given if account_id_of_key(given) is not None else lockout_key(identifier)
    if key is None:
        return 0
    user = account_of_key(key)
    cleared = axes_reset(username=key)
    audit_record(
        action=AuditAction.ACCOUNT_UNLOCK,
        actor=actor,
        target=user,
        target_type="" if user else "lockout",
        target_id="" if user else key,
        changes={"identifier": normalize_identifier(identifier), "failures_cleared": cleared},
    )
    security_event_record(
        kind=SecurityEvent.Kind.ACCOUNT_UNLOCKED,
        severity=Severity.INFO,
        user=user,
        username=user.username if user else key,
        details={"by": getattr(actor, "username", None), "cleared": cleared},
    )
    return cleared
