"""Credits: the atomic consume, refunds, staff changes with a ledger, the daily reset,
and subscription plans (a plan sets the daily amounts of its users' accounts).

A balance only changes through one conditional UPDATE, so concurrent requests can
never take it below zero nor lose or double-count a decrement.
"""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import structlog
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.auth.request_cache import forget_changed_user
from accounts.authz import rules as authz
from accounts.authz.roles import Permission
from accounts.emails import CREDITS_LOW, send_on_commit
from accounts.models import User
from core.errors import CommonErrorCode, Forbidden, ServiceError, ValidationFailed
from credits.errors import CreditErrorCode
from credits.models import (
    MAX_AMOUNT,
    CreditAccount,
    CreditLedgerEntry,
    CreditResetRun,
    Plan,
    PlanChange,
)
from credits.selectors import plan_available
from events.catalog import EventType
from events.services import event_record, user_event_record
from security.models import AuditAction
from security.services.audit import audit_record
from tenants.models import Tenant
from tenants.selectors import tenant_settings

logger = structlog.get_logger(__name__)

MAX_BALANCE = MAX_AMOUNT


class CreditsExhausted(ServiceError):
    status_code = 429
    code = CreditErrorCode.CREDITS_EXHAUSTED
    default_message = "Insufficient conversation credits"


_GROUPS = {"credits": ("main", "reset"), "limits": ("conversation_limit", "reset")}


def default_credits_cleaned(value: object) -> dict | None:
    """A tenant's `default_credits` setting, checked: null, or the `credits` and
    `limits` objects of the `/v1/admin-panel` update (each optional) holding whole
    numbers in range."""
    if value is None:
        return None
    shape = (
        'default_credits is null or {"credits": {"main", "reset"}, "limits": '
        '{"conversation_limit", "reset"}}.'
    )
    if not isinstance(value, dict) or not set(value) <= set(_GROUPS):
        raise ValidationFailed(shape, code=CommonErrorCode.INVALID_SETTINGS)
    return {
        group: _group_cleaned(value[group], group, f"default_credits.{group}")
        for group in _GROUPS
        if group in value
    }


def _group_cleaned(value: object, group: str, label: str) -> dict:
    """A `credits` or `limits` object: only its own names, whole numbers."""
    names = _GROUPS[group]
    if not isinstance(value, dict) or not set(value) <= set(names):
        raise ValidationFailed(
            f"{label} is an object with {' and/or '.join(names)}.",
            code=CreditErrorCode.INVALID_CREDITS,
        )
    for name, amount in value.items():
        if (
            not isinstance(amount, int)
            or isinstance(amount, bool)
            or not 0 <= amount <= MAX_BALANCE
        ):
            raise ValidationFailed(
                f"{label}.{name} must be a whole number from 0 to {MAX_BALANCE}.",
                code=CreditErrorCode.INVALID_CREDITS,
            )
    return dict(value)


def _tenant_defaults(user: User) -> dict:
    try:
        return default_credits_cleaned(tenant_settings(user.tenant).get("default_credits")) or {}
    except ValidationFailed:  # stored before it was checked: the global defaults apply
        logger.warning("tenant_default_credits_invalid", tenant_id=user.tenant_id)
        return {}


def _tenant_or_global_defaults(user: User) -> dict:
    credits = dict(settings.DEFAULT_USER_CREDITS)
    limits = dict(settings.DEFAULT_USER_LIMITS)
    if user.tenant_id is not None:
        tenant_credits = _tenant_defaults(user)  # each name it leaves out keeps the global one
        credits = {**credits, **tenant_credits.get("credits", {})}
        limits = {**limits, **tenant_credits.get("limits", {})}
    return {
        "main_credits": int(credits.get("main", 0)),
        "main_reset": int(credits.get("reset", 0)),
        "conversation_limit": int(limits.get("conversation_limit", 0)),
        "conversation_reset": int(limits.get("reset", 0)),
    }


def _amounts_for(user: User, plan: Plan | None) -> dict:
    """The four amounts of a user on `plan`: the plan's own amounts where it has them
    (the balance starts at the daily amount), the tenant's or global defaults elsewhere."""
    amounts = _tenant_or_global_defaults(user)
    if plan is not None and plan.main_reset is not None:
        amounts["main_credits"] = amounts["main_reset"] = plan.main_reset
    if plan is not None and plan.conversation_reset is not None:
        amounts["conversation_limit"] = amounts["conversation_reset"] = plan.conversation_reset
    return amounts


def _defaults_for(user: User) -> dict:
    plan = Plan.objects.filter(code=user.subscription_plan_id).first()
    return {**_amounts_for(user, plan), "last_reset_on": timezone.now().date()}


def account_for(user: User) -> CreditAccount:
    """The user's credit account, created from the defaults the first time."""
    account = CreditAccount.objects.filter(user=user).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return CreditAccount.objects.create(user=user, **_defaults_for(user))
    except IntegrityError:
        return CreditAccount.objects.get(user=user)


_TABLE = CreditAccount._meta.db_table
# An account whose last reset is older than the latest reset day gets its daily
# allowance back in the same statement that takes from it, so a consume never waits
# on beat; the row lock makes that happen once however many consumes race.
_STALE = "(last_reset_on IS NULL OR last_reset_on < %(reset_day)s)"
_TAKE = (
    f"UPDATE {_TABLE} "  # noqa: S608 - the model's own table; values are parameters
    "SET conversation_limit = conversation_limit - %(amount)s, "
    "used_today = used_today + %(amount)s "
    "WHERE user_id = %(user_id)s AND conversation_limit >= %(amount)s"
)
_RESET_AND_TAKE = (
    f"UPDATE {_TABLE} SET "  # noqa: S608 - the model's own table; values are parameters
    f"conversation_limit = (CASE WHEN {_STALE} THEN conversation_reset "
    "ELSE conversation_limit END) - %(amount)s, "
    f"main_credits = CASE WHEN {_STALE} THEN main_reset ELSE main_credits END, "
    f"used_today = (CASE WHEN {_STALE} THEN 0 ELSE used_today END) + %(amount)s, "
    f"last_reset_on = CASE WHEN {_STALE} THEN %(reset_day)s ELSE last_reset_on END "
    "WHERE user_id = %(user_id)s "
    f"AND (CASE WHEN {_STALE} THEN conversation_reset ELSE conversation_limit END) >= %(amount)s"
)
# Asking PostgreSQL to answer before the decrement's WAL reaches the disk
# (`set_config(…, true)` lasts until the statement's own commit); one statement, so
# it works with either parameter binding and behind any pooler. CREDITS_ASYNC_COMMIT
# in docs/api-keys-and-credits.md.
_WITHOUT_WAITING_FOR_THE_DISK = " AND set_config('synchronous_commit', 'off', true) IS NOT NULL"
# The member's tenant's `credits_low_threshold`, read by the same statement (two
# primary-key lookups, no extra round trip), so that crossing it costs the metered
# path nothing until it happens.
_USER_TABLE = User._meta.db_table
_TENANT_TABLE = Tenant._meta.db_table
_TENANT_THRESHOLD = {
    "postgresql": "(t.settings ->> 'credits_low_threshold')::integer",
    "sqlite": "json_extract(t.settings, '$.credits_low_threshold')",
}


def _threshold_subquery(vendor: str) -> str:
    return (
        f"(SELECT {_TENANT_THRESHOLD[vendor]} FROM {_USER_TABLE} u "  # noqa: S608 - own tables
        f"JOIN {_TENANT_TABLE} t ON t.id = u.tenant_id WHERE u.id = %(user_id)s)"
    )


_CONSUME_SQL = {
    (vendor, resets, asynchronous): (
        f"{_RESET_AND_TAKE if resets else _TAKE}"
        f"{_WITHOUT_WAITING_FOR_THE_DISK if asynchronous else ''} "
        f"RETURNING last_reset_on, conversation_limit, {_threshold_subquery(vendor)}"
    )
    for vendor in _TENANT_THRESHOLD
    for resets in (True, False)
    for asynchronous in (True, False)
}


@dataclass(frozen=True)
class Taken:
    """What one consume took, so that a failed call gives back exactly that."""

    user_id: int
    amount: int
    reset_on: date | None  # the daily allowance it was taken from


_NOT_TAKEN = object()


def _latest_reset_day(now: datetime) -> date | None:
    """The day of the latest daily reset that is due: today from DAILY_USAGE_RESET_HOUR
    (UTC) on, else yesterday; None when resets are off."""
    if not settings.AUTO_CREDIT_RESET_ENABLED:
        return None
    now = now.astimezone(UTC)
    today = now.date()
    return today if now.hour >= settings.DAILY_USAGE_RESET_HOUR else today - timedelta(days=1)


def _take(user_id: int, amount: int):
    """The statement's row (last_reset_on, conversation_limit left, tenant threshold),
    or _NOT_TAKEN."""
    # The hottest statement of the service: written out once instead of rebuilt by
    # the ORM on every call. One conditional UPDATE is the whole atomicity story.
    reset_day = _latest_reset_day(timezone.now())
    sql = _CONSUME_SQL[connection.vendor, reset_day is not None, _commits_asynchronously()]
    params = {"amount": amount, "user_id": user_id, "reset_day": reset_day}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return _NOT_TAKEN if row is None else row


def _commits_asynchronously() -> bool:
    # Only a decrement that commits on its own: inside a caller's transaction the
    # setting would cover the caller's other writes too.
    return (
        settings.CREDITS_ASYNC_COMMIT
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and connection.get_autocommit()
    )


def consume(*, user: User, amount: int = 1) -> Taken:
    """Take `amount` conversations, all or none; 429 CREDITS_EXHAUSTED when short."""
    row = _take(user.pk, amount)
    if row is _NOT_TAKEN:
        account = account_for(user)  # created lazily for accounts made before credits existed
        if account.conversation_limit >= amount:
            row = _take(user.pk, amount)
        if row is _NOT_TAKEN:
            account.refresh_from_db()
            # A batch larger than the daily amount never fits: no time to retry at.
            fits = amount <= account.conversation_reset
            retry = _seconds_until_next_reset(account, timezone.now()) if fits else None
            raise CreditsExhausted(
                extra={"limits": account.limits()},
                headers={"Retry-After": str(retry)} if retry is not None else {},
            )
    reset_on, left, tenant_threshold = row
    _signal_crossings(user, amount=amount, left=left, tenant_threshold=tenant_threshold)
    return Taken(user.pk, amount, _as_date(reset_on))


def _low_credit_threshold(tenant_threshold) -> int:
    """The tenant's `credits_low_threshold` when it has one, else CREDITS_LOW_THRESHOLD."""
    return settings.CREDITS_LOW_THRESHOLD if tenant_threshold is None else int(tenant_threshold)


def _signal_crossings(user: User, *, amount: int, left: int, tenant_threshold) -> None:
    """`credits.low` when this take brought the limit down to the threshold (and the
    email the user allows), `credits.exhausted` when it emptied the limit: once per
    crossing, never on a take that was already at or below it. The decrement has
    committed on its own when the caller holds no transaction, so these rows follow
    it in their own: a process killed between the two loses this one signal."""
    threshold = _low_credit_threshold(tenant_threshold)
    crossed_low = threshold > 0 and left <= threshold < left + amount
    if not crossed_low and left != 0:
        return
    with transaction.atomic():
        if crossed_low:
            user_event_record(
                actor=user,
                type=EventType.CREDITS_LOW,
                user=user,
                conversation_limit=left,
                threshold=threshold,
            )
            send_on_commit(user, CREDITS_LOW, conversation_limit=left)
        if left == 0:
            user_event_record(
                actor=user, type=EventType.CREDITS_EXHAUSTED, user=user, conversation_limit=0
            )


def _seconds_until_next_reset(account: CreditAccount, now: datetime) -> int | None:
    """When the daily reset gives this account its allowance back (beat runs it on the
    hour, from DAILY_USAGE_RESET_HOUR UTC on); None when resets are off."""
    if not settings.AUTO_CREDIT_RESET_ENABLED:
        return None
    today = now.astimezone(UTC).date()
    already_reset = account.last_reset_on is not None and account.last_reset_on >= today
    day = today + timedelta(days=1) if already_reset else today
    reset_at = datetime.combine(day, time(hour=settings.DAILY_USAGE_RESET_HOUR), UTC)
    return max(60, math.ceil((reset_at - now).total_seconds()))


def _as_date(value) -> date | None:
    # SQLite answers a RETURNING date column as text.
    return date.fromisoformat(value) if isinstance(value, str) else value


def refund(*, taken: Taken, reason: str, actor: User | None) -> bool:
    """Give back what a failed call took (the backend failed, nothing was served);
    `actor` None is the service itself, as for every refund of a failed call.

    Only to the allowance it came from: when the daily reset ran in between, the
    reset already gave the full amount back, and a refund on top would exceed it.
    False (and no ledger row) then.
    """
    with transaction.atomic():
        given_back = CreditAccount.objects.filter(
            user_id=taken.user_id, last_reset_on=taken.reset_on
        ).update(
            conversation_limit=F("conversation_limit") + taken.amount,
            used_today=Greatest(F("used_today") - taken.amount, 0),
        )
        if not given_back:
            logger.info("credit_refund_after_reset", user_id=taken.user_id, amount=taken.amount)
            return False
        account = CreditAccount.objects.get(user_id=taken.user_id)
        CreditLedgerEntry.objects.create(
            account=account,
            actor_id=actor.pk if actor is not None else None,
            kind=CreditLedgerEntry.Kind.REFUND,
            reason=reason,
            before={"conversation_limit": account.conversation_limit - taken.amount},
            after={"conversation_limit": account.conversation_limit},
        )
    return True


@dataclass(frozen=True)
class Balance:
    credits: dict
    limits: dict
    used_today: int
    last_reset_on: object


def balance_of(user: User) -> Balance:
    account = account_for(user)
    return Balance(
        credits=account.credits(),
        limits=account.limits(),
        used_today=account.used_today,
        last_reset_on=account.last_reset_on,
    )


def credits_change_allowed(*, actor: User, user: User) -> None:
    """Forbidden unless the actor may change the user's balance: the right to change
    the user, and never one's own balance unless a platform admin. Asked before a
    request body is read, so a refusal does not depend on what was sent."""
    if user.pk == actor.pk and not authz.is_platform_admin(actor):
        raise Forbidden(
            "You may not change your own credits.", code=CommonErrorCode.PERMISSION_DENIED
        )
    if not authz.can(actor, Permission.WRITE_USERS, user):
        raise Forbidden(
            "You may not change this user's credits.", code=CommonErrorCode.PERMISSION_DENIED
        )


def credits_set(
    *, user: User, actor: User, credits: dict | None, limits: dict | None, reason: str = ""
) -> CreditAccount:
    """A staff change of the `credits` and `limits` objects, with a ledger row, by an
    actor whose role allows it (`credits_change_allowed`).

    It writes only to the database, so a caller's transaction undoes all of it."""
    credits_change_allowed(actor=actor, user=user)
    return credits_set_on_behalf(
        user=user, actor=actor, credits=credits, limits=limits, reason=reason
    )


@transaction.atomic
def credits_set_on_behalf(
    *, user: User, actor: User, credits: dict | None, limits: dict | None, reason: str = ""
) -> CreditAccount:
    """`credits_set` without the role check, for a caller that has decided by its own
    rule that the actor may (the support levels of `/v1/support`). The body checks, the
    ledger row and the audit row are the same."""
    credits = {} if credits is None else _group_cleaned(credits, "credits", "credits")
    limits = {} if limits is None else _group_cleaned(limits, "limits", "limits")
    if not credits and not limits:
        raise ValidationFailed(
            "Nothing to change: send credits and/or limits.", code=CommonErrorCode.NOTHING_TO_CHANGE
        )
    account = CreditAccount.objects.select_for_update().get(pk=account_for(user).pk)
    before = {"credits": account.credits(), "limits": account.limits()}
    mapping = {
        ("credits", "main"): "main_credits",
        ("credits", "reset"): "main_reset",
        ("limits", "conversation_limit"): "conversation_limit",
        ("limits", "reset"): "conversation_reset",
    }
    for (group, name), field in mapping.items():
        source = credits if group == "credits" else limits
        if name in source:
            setattr(account, field, source[name])
    account.save()
    after = {"credits": account.credits(), "limits": account.limits()}
    CreditLedgerEntry.objects.create(
        account=account,
        actor_id=actor.pk,
        kind=CreditLedgerEntry.Kind.STAFF_CHANGE,
        reason=reason,
        before=before,
        after=after,
    )
    audit_record(
        action=AuditAction.CREDITS_CHANGE,
        actor=actor,
        target=user,
        changes={"before": before, "after": after, "reason": reason},
    )
    return account


# ----- subscription plans ------------------------------------------------------------


def plan_change_allowed(*, actor: User, user: User) -> None:
    """Forbidden unless the actor may change the user's plan: `write:users` and
    `manage:tenant` over them (platform admins, and tenant admins inside their tenant;
    a moderator changes users but not what the tenant buys), and never one's own plan
    unless a platform admin, so nobody upgrades themselves. Asked before the body is read."""
    if user.pk == actor.pk and not authz.is_platform_admin(actor):
        raise Forbidden("You may not change your own plan.", code=CommonErrorCode.PERMISSION_DENIED)
    if not (
        authz.can(actor, Permission.WRITE_USERS, user)
        and authz.can(actor, Permission.MANAGE_TENANT, user)
    ):
        raise Forbidden(
            "You may not change this user's plan.", code=CommonErrorCode.PERMISSION_DENIED
        )


@dataclass(frozen=True)
class PlanChanged:
    """What a plan change did; `change` is None when the user was on the plan already."""

    user: User
    plan: Plan
    change: PlanChange | None


def plan_change(*, actor: User, user: User, plan: str, reason: str = "") -> PlanChanged:
    """Put the user on the active plan `plan`, by an actor whose role allows it
    (`plan_change_allowed`); the rest as `plan_change_on_behalf`."""
    plan_change_allowed(actor=actor, user=user)
    return plan_change_on_behalf(actor=actor, user=user, plan=plan, reason=reason)


@transaction.atomic
def plan_change_on_behalf(*, actor: User, user: User, plan: str, reason: str = "") -> PlanChanged:
    """`plan_change` without the role check, for a caller that has decided by its own
    rule that the actor may (the support levels of `/v1/support`).

    In one transaction: the user's plan; the plan's daily amounts on the credit account
    (the next resets give them) with today's balance raised to them, never lowered
    (an upgrade takes effect today, a downgrade at the next reset); a ledger row
    (PLAN_CHANGE), a plan-history row and an audit row. The same plan again changes
    nothing and writes nothing. Writes only to the database, so a caller's transaction
    undoes all of it."""
    new_plan = plan_available(code=plan)
    locked = User.objects.select_for_update().get(pk=user.pk)
    previous = locked.subscription_plan_id
    if previous == new_plan.code:
        user.subscription_plan = new_plan
        return PlanChanged(user=user, plan=new_plan, change=None)
    User.objects.filter(pk=user.pk).update(
        subscription_plan=new_plan.code, updated_at=timezone.now()
    )
    user.subscription_plan = new_plan
    forget_changed_user(user, ["subscription_plan"])
    account = CreditAccount.objects.select_for_update().get(pk=account_for(user).pk)
    before = {"credits": account.credits(), "limits": account.limits()}
    amounts = _amounts_for(user, new_plan)
    account.main_reset = amounts["main_reset"]
    account.conversation_reset = amounts["conversation_reset"]
    account.main_credits = max(account.main_credits, amounts["main_reset"])
    # Today's conversations as the new plan would have left them, never fewer than now.
    account.conversation_limit = max(
        account.conversation_limit, amounts["conversation_reset"] - account.used_today
    )
    account.save()
    after = {"credits": account.credits(), "limits": account.limits()}
    plan_codes = {"before": previous, "after": new_plan.code}
    CreditLedgerEntry.objects.create(
        account=account,
        actor_id=actor.pk,
        kind=CreditLedgerEntry.Kind.PLAN_CHANGE,
        reason=reason or f"plan {previous} -> {new_plan.code}",
        before={**before, "plan": previous},
        after={**after, "plan": new_plan.code},
    )
    change = PlanChange.objects.create(
        user=user, actor_id=actor.pk, from_plan=previous, to_plan=new_plan.code, reason=reason
    )
    audit_record(
        action=AuditAction.PLAN_CHANGE,
        actor=actor,
        target=user,
        changes={
            "subscription_plan": plan_codes,
            "credits": {"before": before, "after": after},
            "reason": reason,
        },
    )
    logger.info("plan_changed", user_id=user.pk, before=previous, after=new_plan.code)
    return PlanChanged(user=user, plan=new_plan, change=change)


def daily_reset(*, actor: User | None, day: date | None = None) -> int:
    """Reset every account not yet reset on `day`, with set-based updates; a system
    job (`actor` None for beat and the command), so it leaves no audit row.

    Runs once per day however often it is called: accounts already reset that day
    are skipped, and the run is recorded once (unique day). Safe to re-run after a
    crash half-way. A day after today is refused: accounts marked as reset on it
    would skip every daily reset until then.
    """
    today = timezone.now().date()
    day = day or today
    if day > today:
        raise ValidationFailed(
            f"{day} is after today ({today}): a reset can only be for today or an earlier day.",
            code=CreditErrorCode.RESET_DAY_IN_FUTURE,
        )
    with transaction.atomic():
        return _daily_reset_run(actor=actor, day=day)


def _daily_reset_run(*, actor: User | None, day: date) -> int:
    run, _ = CreditResetRun.objects.get_or_create(day=day)
    reset = CreditAccount.objects.filter(
        Q(last_reset_on__lt=day) | Q(last_reset_on__isnull=True)
    ).update(
        conversation_limit=F("conversation_reset"),
        main_credits=F("main_reset"),
        used_today=0,
        last_reset_on=day,
    )
    CreditResetRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), accounts_reset=F("accounts_reset") + reset
    )
    if reset:
        # One platform event per run that reset anything, never one per account.
        event_record(
            actor=actor,
            type=EventType.CREDITS_RESET,
            tenant_id=None,
            data={"tenant_id": None, "day": day.isoformat(), "accounts_reset": reset},
        )
    return reset
