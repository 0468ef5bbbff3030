"""Changes of a user's preferences: by the user, by staff for one user, in bulk, and
from the admin site. Each checks the document against the declared schema, writes the
user's choices, a history row (who, before, after) and an audit row in one transaction.
"""

from typing import Any

import structlog
from django.db import transaction

from accounts.auth.request_cache import forget_changed_user
from accounts.authz import rules as authz
from accounts.authz.roles import Permission
from accounts.errors import AccountErrorCode
from accounts.models import PreferenceChange, User
from accounts.preferences import (
    check_preferences,
    check_preferences_patch,
    merge_patch,
    preferences_fitting,
)
from accounts.selectors import users_list, users_visible_to
from core.errors import CommonErrorCode, Forbidden, ValidationFailed
from security.models import ActorKind, AuditAction
from security.services.audit import audit_record

logger = structlog.get_logger(__name__)

# One bulk call changes at most this many users (each gets a history and an audit row).
BULK_MAX_USERS = 1000

Source = PreferenceChange.Source


def _require_may_change(*, actor: User | None, user: User, source: str) -> None:
    """The owner may change their own; staff need `write:users` over the user (their
    tenant, a role not above their own) or platform power. On the admin site the
    site's own permission (`change_user`) decides, as for every field of its form."""
    if actor is None or actor.pk == user.pk or source == Source.ADMIN_SITE:
        return
    if not authz.can(actor, Permission.WRITE_USERS, user):
        raise Forbidden(
            "You may not change this user's preferences.", code=CommonErrorCode.PERMISSION_DENIED
        )


def _require_may_change_privacy(*, actor: User | None, user: User, source: str) -> None:
    """`privacy` is what hides a user's email and profile from staff, so another user's
    privacy choices are changed only by those it hides nothing from: platform admins
    and the admins (`manage:tenant`) of the user's tenant. A moderator could otherwise
    show themselves a hidden address and hide it again."""
    if actor is None or actor.pk == user.pk or source == Source.ADMIN_SITE:
        return
    if not authz.can(actor, Permission.MANAGE_TENANT, user):
        raise Forbidden(
            "You may not change this user's privacy preferences.",
            code=CommonErrorCode.PERMISSION_DENIED,
        )


def _write(*, user: User, actor: User | None, source: str, after: dict) -> bool:
    """Store `after` (already checked) as the user's choices with its history and audit
    rows, when it differs from what is stored; inside the caller's transaction and
    with the user's row locked. Whether anything changed."""
    locked = User.objects.select_for_update().only("pk", "preferences", "tenant_id").get(pk=user.pk)
    before = locked.preferences
    if after == before:
        user.preferences = before
        return False
    if preferences_fitting(before).get("privacy") != after.get("privacy"):
        _require_may_change_privacy(actor=actor, user=user, source=source)
    User.objects.filter(pk=user.pk).update(preferences=after)
    user.preferences = after
    forget_changed_user(user, ["preferences"])
    PreferenceChange.objects.create(
        user_id=user.pk,
        actor=actor,
        actor_label=str(getattr(actor, "username", "") or "system")[:254],
        source=source,
        before=before,
        after=after,
    )
    audit_record(
        action=AuditAction.USER_PREFERENCES_UPDATE,
        actor=actor,
        actor_kind=ActorKind.USER if getattr(actor, "pk", None) == user.pk else None,
        target=user,
        changes={"preferences": {"before": before, "after": after}, "source": source},
    )
    logger.info("user_preferences_changed", user_id=user.pk, source=source)
    return True


@transaction.atomic
def preferences_replace(
    *, user: User, actor: User | None, document: Any, source: str = Source.SELF, prefix: str = ""
) -> User:
    """The user's choices become `document` (a whole document: omitted keys fall back
    to the defaults). 400 PREFERENCES_INVALID names each bad path."""
    _require_may_change(actor=actor, user=user, source=source)
    check_preferences(document, prefix=prefix)
    _write(user=user, actor=actor, source=source, after=document)
    return user


@transaction.atomic
def preferences_merge(
    *, user: User, actor: User | None, patch: Any, source: str = Source.SELF, prefix: str = ""
) -> User:
    """Merge `patch` into the user's choices (JSON Merge Patch: objects merge key by
    key, `null` removes a choice so the default applies). 400 PREFERENCES_INVALID
    names each bad path; a stored value that no longer fits the schema is dropped."""
    _require_may_change(actor=actor, user=user, source=source)
    check_preferences_patch(patch, prefix=prefix)
    stored = User.objects.select_for_update().only("preferences").get(pk=user.pk).preferences
    merged = merge_patch(preferences_fitting(stored), patch)
    check_preferences(merged, prefix=prefix)
    _write(user=user, actor=actor, source=source, after=merged)
    return user


def _bulk_selection(*, actor: User, ids: list[int] | None, filters: dict | None):
    if ids:
        found = users_visible_to(actor).filter(pk__in=ids)
        missing = sorted(set(ids) - set(found.values_list("pk", flat=True)))
        if missing:
            items = [{"id": pk, "error": "Not found."} for pk in missing]
            raise ValidationFailed(
                "Nothing was changed: some users were not found.",
                errors=[f"{pk}: Not found." for pk in missing],
                code=AccountErrorCode.BULK_REFUSED,
                extra={"items": items},
            )
        return found.order_by("pk")
    return users_list(actor=actor, filters={**(filters or {}), "ordering": "id"})


def preferences_bulk_merge(
    *, actor: User, patch: Any, ids: list[int] | None = None, filters: dict | None = None
) -> dict[str, int]:
    """Merge `patch` into the choices of every user selected by `ids` or by the user
    list's `filters` (within what the actor sees): all of them or none.

    The actor needs `write:users` (a tenant admin or moderator: their tenant only,
    never a role above their own) or platform power; any user out of reach, an
    unknown id or an invalid value refuses the whole call and nothing is written.
    One history and one audit row per changed user, and one audit row for the call.
    """
    if not authz.can(actor, Permission.WRITE_USERS):
        raise Forbidden("You may not change users.", code=CommonErrorCode.PERMISSION_DENIED)
    check_preferences_patch(patch, prefix="preferences.")
    with transaction.atomic():
        selected = list(
            _bulk_selection(actor=actor, ids=ids, filters=filters)[: BULK_MAX_USERS + 1]
        )
        if len(selected) > BULK_MAX_USERS:
            raise ValidationFailed(
                f"The selection holds more than {BULK_MAX_USERS} users; narrow it.",
                code=AccountErrorCode.BULK_TOO_LARGE,
            )
        refused = [
            user.pk for user in selected if not authz.can(actor, Permission.WRITE_USERS, user)
        ]
        if refused:
            raise ValidationFailed(
                "Nothing was changed: some users are out of your reach.",
                errors=[f"{pk}: You may not change this user." for pk in refused],
                code=AccountErrorCode.BULK_REFUSED,
                extra={"items": [{"id": pk, "error": "Forbidden."} for pk in refused]},
            )
        # Locked in primary-key order, so two bulk calls never deadlock.
        rows = User.objects.select_for_update().filter(pk__in=[u.pk for u in selected])
        stored = dict(rows.order_by("pk").values_list("pk", "preferences"))
        updated = 0
        for user in selected:
            merged = merge_patch(preferences_fitting(stored[user.pk]), patch)
            check_preferences(merged, prefix="preferences.")
            updated += _write(user=user, actor=actor, source=Source.BULK, after=merged)
        audit_record(
            action=AuditAction.USER_PREFERENCES_BULK_UPDATE,
            actor=actor,
            target_type="accounts.user",
            tenant_id=actor.tenant_id,
            changes={
                "preferences": patch,
                "ids": ids or None,
                "filters": {key: str(value) for key, value in (filters or {}).items()} or None,
                "matched": len(selected),
                "updated": updated,
            },
        )
    logger.info("user_preferences_bulk_changed", matched=len(selected), updated=updated)
    return {"matched": len(selected), "updated": updated, "unchanged": len(selected) - updated}
