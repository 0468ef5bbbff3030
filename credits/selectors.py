"""Reads of balances (whose balance a caller may see) and of plans."""

from django.db.models import QuerySet

from accounts.authz.roles import Permission
from accounts.models import User
from accounts.selectors import users_in_scope, users_scope, users_visible_to
from core.errors import ValidationFailed
from credits.errors import CreditErrorCode
from credits.models import CreditAccount, Plan, PlanChange


def credit_owners_visible_to(actor: User) -> QuerySet[User]:
    """The users whose balance the actor may look up (and ask to change): those they see."""
    return users_visible_to(actor)


def billing_owners_visible_to(actor: User) -> QuerySet[User]:
    """The users whose billing (plan history, billing email) the actor may see and
    change: their own, and as the plan rule has it, what a tenant buys is for those who
    manage it (platform admins, the admins of the user's tenant); others are 404. A
    moderator sees users but not where their invoices go, which is often the very
    address `privacy.show_email` hides."""
    return users_visible_to(actor) & users_in_scope(users_scope(actor, Permission.MANAGE_TENANT))


def credit_accounts_visible_to(actor: User) -> QuerySet[CreditAccount]:
    """The credit accounts of the users the actor sees."""
    return CreditAccount.objects.filter(user__in=credit_owners_visible_to(actor))


def plans_offered() -> QuerySet[Plan]:
    """The plans a user can be put on (active), in their order."""
    return Plan.objects.filter(is_active=True).order_by("position", "code")


def plan_of(user: User) -> Plan:
    """The user's plan (active or not: users keep a plan that is no longer offered)."""
    return Plan.objects.get(code=user.subscription_plan_id)


def plan_history_of(user: User) -> QuerySet[PlanChange]:
    """The user's plan changes, newest first (index planchange_user_created_idx)."""
    return PlanChange.objects.filter(user_id=user.pk).order_by("-created_at", "-id")


def plan_available(*, code: str) -> Plan:
    """The active plan of this code; 400 UNKNOWN_PLAN or PLAN_INACTIVE otherwise."""
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise ValidationFailed(f"Unknown plan {code!r}.", code=CreditErrorCode.UNKNOWN_PLAN)
    if not plan.is_active:
        raise ValidationFailed(
            f"The plan {code!r} is no longer offered.", code=CreditErrorCode.PLAN_INACTIVE
        )
    return plan
