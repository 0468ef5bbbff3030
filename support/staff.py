"""What support staff may do to users, by level (`support.levels`), and the changes
they make. The rules of the support surface live here; every change goes through
the domain service that makes it elsewhere (the same checks of the body, the same
audit row, with the staff member as its actor).

Support staff hold the read-only guest role: these rules grant them nothing on the
rest of the API, and the domain services' own role checks would refuse them. So the
changes below call the domain services' `*_on_behalf` forms, which skip only the
role check, after `support_right_require` and `support_target_require` here.
"""

import structlog
from django.db import transaction

from accounts.auth.password_policy import password_check_policy
from accounts.authz.roles import BuiltinRole
from accounts.authz.rules import is_platform_admin
from accounts.errors import AccountErrorCode
from accounts.models import User
from accounts.services import lifecycle, users
from accounts.services.passwords import password_replace
from apikeys.models import APIKey
from apikeys.services import IssuedKey, apikey_revoke_on_behalf, apikey_rotate_on_behalf
from core.errors import CommonErrorCode, Forbidden, ValidationFailed
from credits.services import credits_set_on_behalf
from security.models import AuditAction
from security.services.audit import audit_record
from security.staff import StaffRuleBroken, staff_rule_broken_now
from support.errors import SupportErrorCode
from support.levels import EDITABLE_FIELDS, FIELD_RIGHTS, SupportRight, rights_of
from support.staff_selectors import user_is_protected

logger = structlog.get_logger(__name__)

# The statuses support staff move an account between; pending and deleted accounts
# change only through verification, deletion and recovery.
STAFF_SETTABLE_STATUSES = (User.Status.ACTIVE, User.Status.SUSPENDED)


# ----- the rules --------------------------------------------------------------------


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
    tenant; 404 outside it) is `support.staff_selectors.support_user_get`'s."""
    if user.pk == actor.pk or user_is_protected(user):
        raise Forbidden(
            "Support staff may act only on plain user accounts.",
            code=SupportErrorCode.SUPPORT_TARGET_PROTECTED,
        )


def _require(actor: User, user: User, right: SupportRight) -> None:
    support_right_require(actor, right)
    support_target_require(actor, user)


# ----- creating staff ----------------------------------------------------------------


def _is_tenant_admin(actor: User) -> bool:
    role = actor.role if actor.role_id else None
    return (
        actor.tenant_id is not None
        and not actor.is_support_staff
        and role is not None
        and role.is_builtin
        and role.tenant_id is None
        and role.name == BuiltinRole.ADMIN
    )


def support_staff_create(
    *, actor: User, username: str, name: str, email: str, password: str, staff_level: str
) -> User:
    """A support staff account. A platform admin's staff reach every tenant; a tenant
    admin's staff belong to that tenant and reach only it. Anyone else: 403."""
    if not (getattr(actor, "is_authenticated", False) and actor.is_active):
        raise Forbidden(code=SupportErrorCode.SUPPORT_CREATE_NOT_ALLOWED)
    if _is_tenant_admin(actor):
        tenant_id = actor.tenant_id
    elif is_platform_admin(actor):
        tenant_id = None
    else:
        raise Forbidden(
            "Only platform admins and tenant admins may create support staff.",
            code=SupportErrorCode.SUPPORT_CREATE_NOT_ALLOWED,
        )
    return users.support_staff_account_create(
        actor=actor,
        username=username,
        email=email,
        password=password,
        name=name,
        support_level=staff_level,
        tenant_id=tenant_id,
    )


# ----- changing users ----------------------------------------------------------------


def support_user_update(*, actor: User, user: User, data: dict) -> User:
    """Change the fields of `data`, each allowed by the actor's level (FIELD_RIGHTS),
    in one transaction: the email through the email-change service (uniqueness,
    verification of the new address, notice to the old one, the account's sessions
    end), the status through the status service (leaving active ends sessions and
    keys), the other fields through the staff field writer."""
    support_fields_require(actor, data)
    support_target_require(actor, user)
    if "status" in data and user.status not in STAFF_SETTABLE_STATUSES:
        raise ValidationFailed(
            "Support staff change the status of active or suspended accounts only.",
            code=AccountErrorCode.INVALID_STATUS,
        )
    # The email first: a taken address refuses the whole update before a status
    # change could end sessions or keys, which no rollback takes back.
    with transaction.atomic():
        if "email" in data and data["email"].strip().lower() != user.email:
            lifecycle.email_set_on_behalf(user=user, actor=actor, new_email=data["email"])
        fields = {name: value for name, value in data.items() if name not in {"email", "status"}}
        if fields:
            users.user_fields_set_on_behalf(actor=actor, user=user, data=fields)
        if "status" in data:
            users.user_status_set(
                user=user, status=data["status"], actor=actor, reason="support staff"
            )
    logger.info("support_user_updated", user_id=user.pk, fields=sorted(data))
    return user


def support_plan_set(*, actor: User, user: User, plan: str) -> User:
    """Put the user on `plan` (validated by the caller against SubscriptionPlan)."""
    _require(actor, user, FIELD_RIGHTS["subscription_plan"])
    return users.user_fields_set_on_behalf(actor=actor, user=user, data={"subscription_plan": plan})


def support_password_reset(*, actor: User, user: User, new_password: str) -> None:
    """Set the user's password under the password policy; every session of the
    account ends, as after any password reset."""
    _require(actor, user, SupportRight.RESET_PASSWORD)
    password_check_policy(new_password, user=user)
    with transaction.atomic():
        password_replace(
            user=user,
            actor=actor,
            new_password=new_password,
            action=AuditAction.USER_PASSWORD_SET_BY_STAFF,
        )


def support_credits_set(
    *, actor: User, user: User, credits: dict | None, limits: dict | None, reason: str = ""
):
    """The admin panel's balance change (same body checks, ledger and audit rows)."""
    _require(actor, user, SupportRight.EDIT_CREDITS)
    return credits_set_on_behalf(
        user=user, actor=actor, credits=credits, limits=limits, reason=reason
    )


# ----- a user's records (advanced) ---------------------------------------------------


@transaction.atomic
def support_messages_read_record(*, actor: User, user: User, filters: dict) -> None:
    """Reading someone's conversations is recorded: one audit row per page read."""
    _require(actor, user, SupportRight.READ_MESSAGES)
    audit_record(
        action=AuditAction.SUPPORT_MESSAGES_READ,
        actor=actor,
        target=user,
        changes={"filters": filters},
    )


@transaction.atomic
def support_api_keys_read_record(*, actor: User, user: User) -> None:
    _require(actor, user, SupportRight.MANAGE_API_KEYS)
    audit_record(action=AuditAction.SUPPORT_API_KEYS_READ, actor=actor, target=user)


def support_api_key_revoke(*, actor: User, user: User, key: APIKey) -> APIKey:
    """Revoke one of the user's keys at once (revoking a revoked key changes nothing)."""
    _require(actor, user, SupportRight.MANAGE_API_KEYS)
    return apikey_revoke_on_behalf(key=key, actor=actor)


def support_api_key_regenerate(*, actor: User, user: User, key: APIKey) -> IssuedKey:
    """A new key with the old one's name, scopes and expiry; the old one dies at once.

    The new key is returned in clear, once, to the staff member, who hands it to the
    user: a support level that may reset the user's password can take the account
    over anyway, so the key shows them nothing more, and the audit trail records it.
    """
    _require(actor, user, SupportRight.MANAGE_API_KEYS)
    return apikey_rotate_on_behalf(key=key, actor=actor)
