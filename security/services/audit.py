"""The audit trail: one append-only row per state-changing action.

Callers write it inside the same transaction as the change, so a rolled-back
change leaves no row and a committed change always has one. Secret values never
enter a row: a changed secret is recorded only as changed.
"""

from collections.abc import Iterable
from typing import Any

import structlog
from django.db import models

from security.context import current_context
from security.models import ActorKind, AuditLog

logger = structlog.get_logger(__name__)

SECRET_FIELDS = frozenset(
    {
        "password",
        "new_password",
        "current_password",
        "token",
        "refresh_token",
        "api_key",
        "secret",
        "client_secret",
    }
)


def _actor_kind_of(actor) -> str:
    if actor is None:
        return ActorKind.SYSTEM
    credential = current_context().credential
    if (
        credential is not None
        and credential.key_scopes is not None
        and credential.user_id == getattr(actor, "pk", None)
    ):
        return ActorKind.API_KEY  # the owner acting through a key, not a login
    if getattr(actor, "is_staff", False) or getattr(actor, "is_superuser", False):
        return ActorKind.ADMIN
    return ActorKind.USER


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict]:
    """`{field: {"before", "after"}}` for the fields whose value differs; secrets masked."""
    changes = {}
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        changes[field] = (
            {"changed": True} if field in SECRET_FIELDS else {"before": old, "after": new}
        )
    return changes


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of some fields, for a before/after comparison."""
    return {field: getattr(instance, field) for field in fields}


def audit_record(
    *,
    action: str,
    actor,
    actor_kind: str | None = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    tenant_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """Write one audit row; call inside the transaction of the change it records.

    `actor=None` is the system (a job, the firewall), unless `actor_kind` says otherwise.
    """
    context = current_context()
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
        tenant_id = tenant_id if tenant_id is not None else getattr(target, "tenant_id", None)
    safe_changes = {
        field: {"changed": True} if field in SECRET_FIELDS else value
        for field, value in (changes or {}).items()
    }
    entry = AuditLog.objects.create(
        actor_id=getattr(actor, "pk", None),
        actor_kind=actor_kind or _actor_kind_of(actor),
        actor_label=str(getattr(actor, "username", "") or "")[:254],
        action=action,
        target_type=target_type,
        target_id=str(target_id or ""),
        tenant_id=tenant_id,
        changes=safe_changes,
        ip_address=context.ip_address,
        user_agent=context.user_agent,
        request_id=context.request_id,
    )
    logger.info("audit", action=action, target_type=target_type, target_id=str(target_id or ""))
    return entry
