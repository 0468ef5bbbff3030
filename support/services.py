"""Staff changes: the admin panel's, which span domain apps in one transaction, and
the support staff's, by level (`support.levels`).

Every change goes through the domain service that makes it elsewhere (the same
checks of the body, the same audit row, with the staff member as its actor); the
domain rules stay there. Support staff hold the read-only guest role, and the domain
services' own role checks would refuse them, so their changes call the domain
services' `*_on_behalf` forms, which skip only the role check, after
`support.rules` has checked the level and the target.
"""

import structlog
from django.db import transaction
from django.db.models import QuerySet

from accounts.auth.password_policy import password_check_policy
from accounts.authz.roles import BuiltinRole
from accounts.authz.rules import is_platform_admin
from accounts.errors import AccountErrorCode
from accounts.models import User
from accounts.services import lifecycle, users
from accounts.services.passwords import password_replace
from apikeys.models import APIKey
from apikeys.services import IssuedKey, apikey_revoke_on_behalf, apikey_rotate_on_behalf
from core.errors import CommonErrorCode, Forbidden, NotFound, ValidationFailed
from credits.services import (
    PlanChanged,
    credits_set,
    credits_set_on_behalf,
    plan_change,
    plan_change_on_behalf,
)
from messagelog.models import MessageLog
from security.models import AuditAction
from security.services.audit import audit_record
from support import rules, selectors
from support.errors import SupportErrorCode
from support.levels import FIELD_RIGHTS, STAFF_SETTABLE_STATUSES, SupportRight

logger = structlog.get_logger(__name__)


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
    """The `/v1/admin-panel/users/{id}` update: the plan, the balance and the profile
    change in one transaction, the plan and the balance first, through the credits
    service (its checks, ledger rows and audit records; the plan's amounts, then any
    balance given explicitly), which writes only to the database. So a refused plan
    or balance is refused before the profile change could end sessions or drop cached
    rights, which no rollback takes back. Nothing to change is 400 NOTHING_TO_CHANGE."""
    changes_balance = admin_panel_update_names_a_change(
        profile=profile, credits=credits, limits=limits
    )
    profile = dict(profile)
    plan = profile.pop("subscription_plan", None)
    with transaction.atomic():
        if plan:
            plan_change(actor=actor, user=user, plan=plan, reason=reason)
        if changes_balance:
            credits_set(user=user, actor=actor, credits=credits, limits=limits, reason=reason)
        if profile:
            user = users.user_update_by_admin(actor=actor, user=user, data=profile)
    return user


def user_message_logs_read(*, actor, user_id: int) -> QuerySet[MessageLog]:
    """A user's conversation log for a platform admin: reading it is audited
    (MESSAGE_LOG_READ, the user as target). Unknown user: 404, nothing recorded."""
    user = selectors.user_get(user_id=user_id)
    audit_record(action=AuditAction.MESSAGE_LOG_READ, actor=actor, target=user)
    return selectors.user_message_logs(user=user)


# ----- support staff ------------------------------------------------------------------


def _staff_require(actor: User, user: User, right: SupportRight) -> None:
    rules.support_right_require(actor, right)
    rules.support_target_require(actor, user)


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
    rules.support_fields_require(actor, data)
    rules.support_target_require(actor, user)
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
        if "subscription_plan" in data:
            plan_change_on_behalf(
                actor=actor, user=user, plan=data["subscription_plan"], reason="support staff"
            )
        skipped = {"email", "status", "subscription_plan"}
        fields = {name: value for name, value in data.items() if name not in skipped}
        if fields:
            users.user_fields_set_on_behalf(actor=actor, user=user, data=fields)
        if "status" in data:
            users.user_status_set(
                user=user, status=data["status"], actor=actor, reason="support staff"
            )
    logger.info("support_user_updated", user_id=user.pk, fields=sorted(data))
    return user


def support_plan_set(*, actor: User, user: User, plan: str, reason: str = "") -> PlanChanged:
    """Put the user on the active plan `plan` through the credits service (the credit
    account's amounts, ledger, history and audit rows); 400 UNKNOWN_PLAN/PLAN_INACTIVE."""
    _staff_require(actor, user, FIELD_RIGHTS["subscription_plan"])
    return plan_change_on_behalf(actor=actor, user=user, plan=plan, reason=reason)


def support_password_reset(*, actor: User, user: User, new_password: str) -> None:
    """Set the user's password under the password policy; every session of the
    account ends, as after any password reset."""
    _staff_require(actor, user, SupportRight.RESET_PASSWORD)
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
    _staff_require(actor, user, SupportRight.EDIT_CREDITS)
    return credits_set_on_behalf(
        user=user, actor=actor, credits=credits, limits=limits, reason=reason
    )


# ----- a user's records (advanced) ---------------------------------------------------


@transaction.atomic
def support_messages_read_record(*, actor: User, user: User, filters: dict) -> None:
    """Reading someone's conversations is recorded: one audit row per page read."""
    _staff_require(actor, user, SupportRight.READ_MESSAGES)
    audit_record(
        action=AuditAction.SUPPORT_MESSAGES_READ,
        actor=actor,
        target=user,
        changes={"filters": filters},
    )


@transaction.atomic
def support_api_keys_read_record(*, actor: User, user: User) -> None:
    _staff_require(actor, user, SupportRight.MANAGE_API_KEYS)
    audit_record(action=AuditAction.SUPPORT_API_KEYS_READ, actor=actor, target=user)


def _staff_require_key(actor: User, user: User, key: APIKey) -> None:
    """The key right over the user, and the key theirs (404 otherwise): the role check
    the `*_on_behalf` forms skip must not let a key of someone else through."""
    _staff_require(actor, user, SupportRight.MANAGE_API_KEYS)
    if key.user_id != user.pk:
        raise NotFound("No such API key.")


def support_api_key_revoke(*, actor: User, user: User, key: APIKey) -> APIKey:
    """Revoke one of the user's keys at once (revoking a revoked key changes nothing)."""
    _staff_require_key(actor, user, key)
    return apikey_revoke_on_behalf(key=key, actor=actor)


def support_api_key_regenerate(*, actor: User, user: User, key: APIKey) -> IssuedKey:
    """A new key with the old one's name, scopes and expiry; the old one dies at once.

    The new key is returned in clear, once, to the staff member, who hands it to the
    user: a support level that may reset the user's password can take the account
    over anyway, so the key shows them nothing more, and the audit trail records it.
    """
    _staff_require_key(actor, user, key)
    return apikey_rotate_on_behalf(key=key, actor=actor)
