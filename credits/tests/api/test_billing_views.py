"""Plans and billing over HTTP: /api/v1/plans, /api/v1/users/me/billing(/history),
/api/v1/users/<id>/plan and /api/v1/users/<id>/billing; who may change a plan, what a
change does to the credit account, and that nobody gives themselves a better plan."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone

from accounts.models import User
from accounts.tests.helpers import assert_envelope
from accounts.tests.world import build_world
from credits.models import CreditAccount, CreditLedgerEntry, PlanChange
from credits.services import account_for, daily_reset
from credits.tests.factories import PlanFactory
from credits.tests.helpers import auth_of
from security.models import AuditAction, AuditLog
from security.tests.helpers import audit_row

PLANS = "/api/v1/plans"
MY_BILLING = "/api/v1/users/me/billing"
MY_HISTORY = "/api/v1/users/me/billing/history"


@pytest.fixture
def world(db):
    return build_world()


def plan_url(user) -> str:
    return f"/api/v1/users/{user.pk}/plan"


def billing_url(user) -> str:
    return f"/api/v1/users/{user.pk}/billing"


def plan_of(user) -> str:
    return User.objects.get(pk=user.pk).subscription_plan_id


# ----- the plans on offer -----------------------------------------------------------------


def test_plans_lists_the_active_plans_in_order_for_any_signed_in_user(api_client, world):
    PlanFactory(code="retired", is_active=False)

    response = api_client.get(PLANS, **world.auth("guest"))

    assert response.status_code == 200, response.content
    assert [plan["code"] for plan in response.json()] == ["free", "basic", "premium", "enterprise"]
    premium = response.json()[2]
    assert (premium["main_reset"], premium["conversation_reset"]) == (200, 500)
    assert response.json()[0]["main_reset"] is None  # the free plan follows the defaults


def test_plans_needs_a_signed_in_caller(api_client, world):
    assert_envelope(api_client.get(PLANS), 401)


# ----- changing a user's plan ----------------------------------------------------------


def test_a_tenant_admin_upgrades_a_member_with_ledger_history_and_audit(api_client, world):
    admin = world.users["tenant_admin"]
    account = account_for(world.member)  # the defaults: 5 main credits, 10 conversations
    CreditAccount.objects.filter(pk=account.pk).update(conversation_limit=7, used_today=3)

    response = api_client.put(
        plan_url(world.member),
        {"subscription_plan": "premium", "reason": "paid invoice 42"},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert response.status_code == 200, response.content
    assert response.json()["plan"]["code"] == "premium"
    assert plan_of(world.member) == "premium"
    account.refresh_from_db()
    # The daily amounts are the plan's; today's balance rises to them (less today's use).
    assert (account.main_reset, account.conversation_reset) == (200, 500)
    assert (account.main_credits, account.conversation_limit) == (200, 497)
    entry = CreditLedgerEntry.objects.get(kind=CreditLedgerEntry.Kind.PLAN_CHANGE)
    assert entry.actor_id == admin.pk
    assert (entry.before["plan"], entry.after["plan"]) == ("free", "premium")
    change = PlanChange.objects.get(user=world.member)
    assert (change.from_plan, change.to_plan, change.reason) == (
        "free",
        "premium",
        "paid invoice 42",
    )
    assert change.actor_id == admin.pk
    row = audit_row(action=AuditAction.PLAN_CHANGE, target_id=str(world.member.pk))
    assert row.actor_id == admin.pk
    assert row.changes["subscription_plan"] == {"before": "free", "after": "premium"}


def test_a_downgrade_keeps_todays_balance_and_lowers_the_daily_amounts(api_client, world):
    User.objects.filter(pk=world.member.pk).update(subscription_plan="premium")
    world.member.refresh_from_db()
    account = account_for(world.member)  # made from the plan's amounts
    assert (account.main_credits, account.conversation_limit) == (200, 500)

    response = api_client.put(
        plan_url(world.member),
        {"subscription_plan": "basic"},
        format="json",
        **world.auth("platform_admin"),
    )

    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert (account.main_reset, account.conversation_reset) == (50, 100)
    assert (account.main_credits, account.conversation_limit) == (200, 500)


def test_the_daily_reset_gives_the_new_plans_amounts(api_client, world):
    api_client.put(
        plan_url(world.member),
        {"subscription_plan": "basic"},
        format="json",
        **world.auth("platform_admin"),
    )
    account = account_for(world.member)
    CreditAccount.objects.filter(pk=account.pk).update(
        main_credits=0,
        conversation_limit=0,
        last_reset_on=timezone.now().date() - timedelta(days=1),
    )

    daily_reset(actor=None)

    account.refresh_from_db()
    assert (account.main_credits, account.conversation_limit) == (50, 100)


def test_the_same_plan_again_writes_nothing(api_client, world):
    response = api_client.put(
        plan_url(world.member),
        {"subscription_plan": "free"},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert response.status_code == 200, response.content
    assert not PlanChange.objects.exists()
    assert not AuditLog.objects.filter(action=AuditAction.PLAN_CHANGE).exists()


@pytest.mark.parametrize(
    ("plan", "code"), [("platinum", "UNKNOWN_PLAN"), ("retired", "PLAN_INACTIVE")]
)
def test_an_unknown_or_inactive_plan_is_refused_and_nothing_changes(api_client, world, plan, code):
    PlanFactory(code="retired", is_active=False)

    response = api_client.put(
        plan_url(world.member),
        {"subscription_plan": plan},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert_envelope(response, 400, code)
    assert plan_of(world.member) == "free"
    assert not PlanChange.objects.exists()


def test_a_user_keeps_an_inactive_plan_and_sees_it(api_client, world):
    PlanFactory(code="legacy", is_active=False, main_reset=7, conversation_reset=8)
    User.objects.filter(pk=world.member.pk).update(subscription_plan="legacy")
    body = api_client.get(MY_BILLING, **auth_of(world.member)).json()

    assert body["plan"]["code"] == "legacy" and body["plan"]["is_active"] is False


# A plain member does not even see the other member (404); a moderator sees and may
# change users but not the tenant's plans, and a guest reads only (403).
@pytest.mark.parametrize(("actor", "status"), [("user", 404), ("moderator", 403), ("guest", 403)])
def test_only_admins_may_change_a_plan(api_client, world, actor, status):
    response = api_client.put(
        plan_url(world.member),
        {"subscription_plan": "enterprise"},
        format="json",
        **world.auth(actor),
    )

    assert_envelope(response, status)
    assert plan_of(world.member) == "free"


def test_a_tenant_admin_cannot_change_another_tenants_user(api_client, world):
    response = api_client.put(
        plan_url(world.other_member),
        {"subscription_plan": "enterprise"},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert_envelope(response, 404)
    assert plan_of(world.other_member) == "free"


def test_a_tenant_admin_cannot_upgrade_themselves(api_client, world):
    admin = world.users["tenant_admin"]

    response = api_client.put(
        plan_url(admin),
        {"subscription_plan": "enterprise"},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert_envelope(response, 403, "PERMISSION_DENIED")
    assert plan_of(admin) == "free"


def test_nobody_upgrades_themselves_through_the_profile_routes(api_client, world):
    member = world.member
    auth = auth_of(member)
    body = {"subscription_plan": "enterprise", "name": "Member"}

    answers = [
        api_client.put("/api/v1/users/me", body, format="json", **auth),
        api_client.patch("/api/v1/users/me", body, format="json", **auth),
        api_client.put("/v1/users/profile", body, format="json", **auth),
        api_client.put(f"/api/v1/users/{member.pk}", body, format="json", **auth),
        api_client.patch(f"/api/v1/users/{member.pk}", body, format="json", **auth),
        api_client.put(
            MY_BILLING, {**body, "billing_email": "b@example.com"}, format="json", **auth
        ),
        api_client.put(plan_url(member), body, format="json", **auth),
    ]

    assert [answer.status_code < 500 for answer in answers] == [True] * len(answers)
    assert answers[-1].status_code == 403
    assert plan_of(member) == "free"
    assert not PlanChange.objects.exists()
    assert account_for(member).conversation_reset == 10


def test_a_failed_credits_write_leaves_the_plan_as_it_was(api_client, world, monkeypatch):
    def failing_create(*args, **kwargs):
        raise DatabaseError("ledger unavailable")

    monkeypatch.setattr(CreditLedgerEntry.objects, "create", failing_create)
    account = account_for(world.member)
    api_client.raise_request_exception = False

    response = api_client.put(
        plan_url(world.member),
        {"subscription_plan": "premium"},
        format="json",
        **world.auth("platform_admin"),
    )

    assert response.status_code == 500
    assert plan_of(world.member) == "free"
    account.refresh_from_db()
    assert (account.main_reset, account.conversation_reset) == (5, 10)
    assert not PlanChange.objects.exists()
    assert not AuditLog.objects.filter(action=AuditAction.PLAN_CHANGE).exists()


def test_the_user_admin_update_changes_the_plan_through_the_service(api_client, world):
    response = api_client.patch(
        f"/api/v1/users/{world.member.pk}",
        {"subscription_plan": "basic"},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert response.status_code == 200, response.content
    assert response.json()["subscription_plan"] == "basic"
    assert PlanChange.objects.get(user=world.member).to_plan == "basic"
    assert account_for(world.member).conversation_reset == 100


def test_the_user_admin_update_refuses_an_unknown_plan_and_changes_nothing(api_client, world):
    response = api_client.patch(
        f"/api/v1/users/{world.member.pk}",
        {"subscription_plan": "platinum", "name": "Renamed"},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert_envelope(response, 400, "UNKNOWN_PLAN")
    assert User.objects.get(pk=world.member.pk).name != "Renamed"


# ----- billing email and history --------------------------------------------------------


def test_a_user_reads_and_sets_their_billing_email_and_history(api_client, world):
    api_client.put(
        plan_url(world.member),
        {"subscription_plan": "basic", "reason": "trial"},
        format="json",
        **world.auth("tenant_admin"),
    )
    auth = auth_of(world.member)

    updated = api_client.put(
        MY_BILLING, {"billing_email": "invoices@acme.example"}, format="json", **auth
    )
    body = api_client.get(MY_BILLING, **auth).json()
    history = api_client.get(MY_HISTORY, **auth).json()

    assert updated.status_code == 200, updated.content
    assert body["billing_email"] == "invoices@acme.example"
    assert body["plan"]["code"] == "basic"
    assert [(row["from_plan"], row["to_plan"], row["reason"]) for row in body["plan_history"]] == [
        ("free", "basic", "trial")
    ]
    assert [row["to_plan"] for row in history["results"]] == ["basic"]
    row = audit_row(action=AuditAction.USER_BILLING_EMAIL_CHANGE, target_id=str(world.member.pk))
    assert row.changes["billing_email"] == {"before": "", "after": "invoices@acme.example"}


def test_a_billing_email_must_be_an_email(api_client, world):
    response = api_client.put(
        MY_BILLING, {"billing_email": "not-an-address"}, format="json", **auth_of(world.member)
    )

    assert_envelope(response, 400)
    assert User.objects.get(pk=world.member.pk).billing_email == ""


def test_a_read_only_role_may_read_but_not_set_its_billing_email(api_client, world):
    auth = world.auth("guest")

    assert api_client.get(MY_BILLING, **auth).status_code == 200
    response = api_client.put(MY_BILLING, {"billing_email": "g@example.com"}, format="json", **auth)

    assert response.status_code == 403
    assert User.objects.get(pk=world.users["guest"].pk).billing_email == ""


def test_admins_read_and_set_a_users_billing_email_in_their_tenant_only(api_client, world):
    auth = world.auth("tenant_admin")

    own = api_client.put(
        billing_url(world.member), {"billing_email": "m@acme.example"}, format="json", **auth
    )
    other = api_client.put(
        billing_url(world.other_member), {"billing_email": "x@evil.example"}, format="json", **auth
    )
    read_other = api_client.get(billing_url(world.other_member), **auth)

    assert own.status_code == 200, own.content
    assert User.objects.get(pk=world.member.pk).billing_email == "m@acme.example"
    assert_envelope(other, 404)
    assert_envelope(read_other, 404)
    assert User.objects.get(pk=world.other_member.pk).billing_email == ""


def test_a_member_cannot_set_another_members_billing_email(api_client, world):
    response = api_client.put(
        billing_url(world.member),
        {"billing_email": "x@evil.example"},
        format="json",
        **world.auth("user"),
    )

    assert response.status_code in (403, 404)
    assert User.objects.get(pk=world.member.pk).billing_email == ""


def test_a_moderator_neither_reads_nor_sets_a_members_billing(api_client, world):
    """Where invoices go is for those who manage the tenant: a moderator changes users
    but would otherwise read the billing email, often the address privacy hides."""
    User.objects.filter(pk=world.member.pk).update(billing_email="hidden@acme.example")
    auth = world.auth("moderator")

    read = api_client.get(billing_url(world.member), **auth)
    write = api_client.put(
        billing_url(world.member), {"billing_email": "x@evil.example"}, format="json", **auth
    )
    own = api_client.get("/api/v1/users/me/billing", **auth)

    assert_envelope(read, 404)
    assert_envelope(write, 404)
    assert own.status_code == 200, own.content
    assert User.objects.get(pk=world.member.pk).billing_email == "hidden@acme.example"
    assert "hidden@acme.example" not in read.content.decode()
