"""Staff changes that span domain apps, each in one transaction; the domain rules
stay in the domain services they call."""

from django.db import transaction
from django.db.models import QuerySet

from accounts.services import users as user_services
from core.errors import CommonErrorCode, ValidationFailed
from credits.services import credits_set
from messagelog.models import MessageLog
from security.models import AuditAction
from security.services.audit import audit_record
from support import selectors


def admin_panel_update_names_a_change(
    *, profile: dict, credits: dict | None, limits: dict | None
) -> bool:
    """Whether the update changes the balance; 400 NOTHING_TO_CHANGE when it changes
    nothing at all. Asked before the user is looked up, so an empty update is a 400
    whichever id it names."""
    changes_balance = credits is not None or limits is not None
    if not profile and not changes_balance:
        raise ValidationFailed("Nothing to change.", code=CommonErrorCode.NOTHING_TO_CHANGE)
    return changes_balance


def admin_panel_user_update(
    *,
    actor,
    user,
    profile: dict,
    credits: dict | None = None,
    limits: dict | None = None,
    reason: str = "",
):
    """The `/v1/admin-panel/users/{id}` update: the profile and the balance change in
    one transaction, the balance first, through the credits service (its checks,
    ledger row and audit record), which writes only to the database. So a refused
    balance is refused before the profile change could end sessions or drop cached
    rights, which no rollback takes back. Nothing to change is 400 NOTHING_TO_CHANGE."""
    changes_balance = admin_panel_update_names_a_change(
        profile=profile, credits=credits, limits=limits
    )
    with transaction.atomic():
        if changes_balance:
            credits_set(user=user, actor=actor, credits=credits, limits=limits, reason=reason)
        if profile:
            user = user_services.user_update_by_admin(actor=actor, user=user, data=profile)
    return user


def user_message_logs_read(*, actor, user_id: int) -> QuerySet[MessageLog]:
    """A user's conversation log for a platform admin: reading it is audited
    (MESSAGE_LOG_READ, the user as target). Unknown user: 404, nothing recorded."""
    user = selectors.user_get(user_id=user_id)
    audit_record(action=AuditAction.MESSAGE_LOG_READ, actor=actor, target=user)
    return selectors.user_message_logs(user=user)
