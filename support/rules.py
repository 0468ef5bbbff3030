"""The rules of the support surface: who is support staff, what their level may do
(`support.levels`), which fields it may change, and whom it may act on.

Support staff hold the read-only guest role, so these rules grant them nothing on
the rest of the API; the services in `support.services` ask them before every change.
"""

from accounts.models import User
from core.errors import CommonErrorCode, Forbidden, ValidationFailed
from security.staff import StaffRuleBroken, staff_rule_broken_now
from support.errors import SupportErrorCode
from support.levels import EDITABLE_FIELDS, SupportRight, rights_of
from support.selectors import user_is_protected


def support_staff_require(actor: User) -> None:
    """403 SUPPORT_STAFF_ONLY unless the actor is active support staff; 403 with the
    staff rule's code (IP_NOT_ALLOWLISTED, MFA_REQUIRED) when the request breaks one."""
    if not (getattr(actor, "is_authenticated", False) and actor.is_active):
        raise Forbidden(code=SupportErrorCode.SUPPORT_STAFF_ONLY)
    if not actor.is_support_staff:
        raise Forbidden(
            "Only support staff may use this route.", code=SupportErrorCode.SUPPORT_STAFF_ONLY
        )
    # Staff power over other people's accounts is held to the staff rules as platform
    # admins' is: the IP allowlist (IP_WHITELIST_ENABLED) and a login that passed MFA
    # (ADMIN_REQUIRE_MFA).
    rule = staff_rule_broken_now(actor)
    if rule is not None:
        raise StaffRuleBroken(rule, user=actor)


def support_right_require(actor: User, right: SupportRight) -> None:
    """403 SUPPORT_RIGHT_MISSING unless the actor's level holds `right`."""
    support_staff_require(actor)
    if right not in rights_of(actor):
        raise Forbidden(
            f"The {actor.support_level!r} staff level may not do this ({right}).",
            code=SupportErrorCode.SUPPORT_RIGHT_MISSING,
            extra={"required_right": str(right), "staff_level": actor.support_level},
        )


def support_fields_require(actor: User, fields) -> None:
    """403 SUPPORT_FIELD_NOT_EDITABLE naming every field of `fields` the actor's level
    may not change (unknown fields included); 400 NOTHING_TO_CHANGE for none."""
    support_staff_require(actor)
    fields = set(fields)
    if not fields:
        raise ValidationFailed("Nothing to change.", code=CommonErrorCode.NOTHING_TO_CHANGE)
    refused = sorted(fields - EDITABLE_FIELDS.get(actor.support_level, frozenset()))
    if refused:
        raise Forbidden(
            f"The {actor.support_level!r} staff level may not change: {', '.join(refused)}.",
            errors=[f"{field}: not editable at this staff level" for field in refused],
            code=SupportErrorCode.SUPPORT_FIELD_NOT_EDITABLE,
            extra={"fields": refused, "staff_level": actor.support_level},
        )


def support_target_require(actor: User, user: User) -> None:
    """403 SUPPORT_TARGET_PROTECTED for an account staff must leave alone: staff and
    admins of any kind, moderators, and the staff member themself. The reach (the
    tenant; 404 outside it) is `support.selectors.support_user_get`'s."""
    if user.pk == actor.pk or user_is_protected(user):
        raise Forbidden(
            "Support staff may act only on plain user accounts.",
            code=SupportErrorCode.SUPPORT_TARGET_PROTECTED,
        )
