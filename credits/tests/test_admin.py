"""The admin pages of credits: a balance changes only through the service, with a
reason, a ledger row and an audit row; the ledger cannot be written. Plans are edited
with an audit row and deleted only when unused; the user page's plan goes through the
plan change service."""

from django.contrib.auth.models import Permission

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import admin_change_form
from credits.models import CreditAccount, CreditLedgerEntry, Plan, PlanChange
from credits.tests.factories import CreditAccountFactory, CreditLedgerEntryFactory, PlanFactory
from security.models import AuditAction, AuditLog
from security.tests.helpers import audit_row

ACCOUNTS = "/admin/credits/creditaccount/"
LEDGER = "/admin/credits/creditledgerentry/"


def _change(account, **values) -> dict:
    return {
        "main_credits": account.main_credits,
        "main_reset": account.main_reset,
        "conversation_limit": account.conversation_limit,
        "conversation_reset": account.conversation_reset,
        **values,
    }


def test_account_list_shows_balances_and_finds_by_email(admin_client):
    ada = CreditAccountFactory(
        user=UserFactory(username="ada", email="ada@example.com"), main_credits=77, used_today=3
    )
    CreditAccountFactory(user=UserFactory(username="bob", email="bob@example.com"))

    page = admin_client.get(ACCOUNTS, {"q": "ADA@example"}).content.decode()

    assert "ada" in page and "77" in page and "bob" not in page
    assert admin_client.get(f"{ACCOUNTS}{ada.pk}/change/").status_code == 200


def test_balance_change_writes_ledger_and_audit_with_the_reason(admin_client):
    account = CreditAccountFactory(main_credits=10, conversation_limit=5)

    response = admin_client.post(
        f"{ACCOUNTS}{account.pk}/change/",
        _change(account, main_credits=50, reason="goodwill after the outage"),
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.main_credits == 50 and account.conversation_limit == 5
    entry = CreditLedgerEntry.objects.get(account=account)
    assert entry.kind == CreditLedgerEntry.Kind.STAFF_CHANGE
    assert entry.reason == "goodwill after the outage"
    assert (entry.before["credits"]["main"], entry.after["credits"]["main"]) == (10, 50)
    row = audit_row(action=AuditAction.CREDITS_CHANGE, actor_label="admin")
    assert row.changes["reason"] == "goodwill after the outage"
    assert row.target_id == str(account.user_id)
    # The service's row is the only one: no generic admin row doubles it.
    assert not AuditLog.objects.filter(action__startswith="admin.creditaccount").exists()


def test_balance_change_without_a_reason_is_refused(admin_client):
    account = CreditAccountFactory(main_credits=10)

    page = admin_client.post(f"{ACCOUNTS}{account.pk}/change/", _change(account, main_credits=99))

    assert page.status_code == 200 and "This field is required" in page.content.decode()
    account.refresh_from_db()
    assert account.main_credits == 10
    assert not CreditLedgerEntry.objects.exists()


def test_negative_balance_is_refused(admin_client):
    account = CreditAccountFactory(main_credits=10)

    page = admin_client.post(
        f"{ACCOUNTS}{account.pk}/change/", _change(account, main_credits=-5, reason="oops")
    )

    assert page.status_code == 200
    account.refresh_from_db()
    assert account.main_credits == 10 and not CreditLedgerEntry.objects.exists()


def test_staff_without_the_right_to_change_the_user_changes_nothing(client, db):
    """Django's change permission opens the form; the service's role check still decides."""
    staffer = UserFactory(username="clerk", is_staff=True)
    staffer.user_permissions.set(
        Permission.objects.filter(codename__in=["view_creditaccount", "change_creditaccount"])
    )
    client.force_login(staffer)
    account = CreditAccountFactory(main_credits=10)

    page = client.post(
        f"{ACCOUNTS}{account.pk}/change/",
        _change(account, main_credits=1000, reason="for me"),
        follow=True,
    )

    account.refresh_from_db()
    assert account.main_credits == 10
    assert "Nothing changed" in page.content.decode()
    assert not CreditLedgerEntry.objects.exists()
    assert not AuditLog.objects.filter(action=AuditAction.CREDITS_CHANGE).exists()


def test_accounts_are_neither_added_nor_deleted_here(admin_client):
    account = CreditAccountFactory()

    assert admin_client.get(f"{ACCOUNTS}add/").status_code == 403
    assert admin_client.post(f"{ACCOUNTS}{account.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CreditAccount.objects.filter(pk=account.pk).exists()


def test_ledger_lists_and_searches_but_is_read_only(admin_client):
    entry = CreditLedgerEntryFactory(
        account=CreditAccountFactory(user=UserFactory(username="ada")), reason="refund of x"
    )
    CreditLedgerEntryFactory(account=CreditAccountFactory(user=UserFactory(username="bob")))

    found = admin_client.get(LEDGER, {"q": "ada"}).content.decode()
    detail = admin_client.get(f"{LEDGER}{entry.pk}/change/")

    assert "refund of x" in found and "bob" not in found
    assert detail.status_code == 200 and 'name="reason"' not in detail.content.decode()
    assert admin_client.get(f"{LEDGER}add/").status_code == 403
    admin_client.post(f"{LEDGER}{entry.pk}/change/", {"reason": "rewritten"})
    admin_client.post(f"{LEDGER}{entry.pk}/delete/", {"post": "yes"})
    entry.refresh_from_db()
    assert entry.reason == "refund of x"


# ----- plans -------------------------------------------------------------------------------

PLANS_PAGE = "/admin/credits/plan/"


def _plan_form(plan, **values) -> dict:
    return {
        "name": plan.name,
        "description": plan.description,
        "main_reset": "" if plan.main_reset is None else plan.main_reset,
        "conversation_reset": "" if plan.conversation_reset is None else plan.conversation_reset,
        "is_active": "on" if plan.is_active else "",
        "position": plan.position,
        **values,
    }


def test_a_plan_edit_is_audited(admin_client):
    plan = Plan.objects.get(code="basic")

    response = admin_client.post(
        f"{PLANS_PAGE}{plan.pk}/change/", _plan_form(plan, conversation_reset=150)
    )

    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.conversation_reset == 150
    row = audit_row(action="admin.plan.update", target_id=str(plan.pk))
    assert row.changes["conversation_reset"] == {"before": 100, "after": 150}


def test_a_negative_plan_amount_is_refused(admin_client):
    plan = Plan.objects.get(code="basic")

    response = admin_client.post(f"{PLANS_PAGE}{plan.pk}/change/", _plan_form(plan, main_reset=-1))

    assert response.status_code == 200  # the form again, with the error
    plan.refresh_from_db()
    assert plan.main_reset == 50


def test_a_plan_in_use_cannot_be_deleted_but_can_be_deactivated(admin_client):
    plan = PlanFactory(code="gold")
    UserFactory(subscription_plan_id="gold")

    admin_client.post(f"{PLANS_PAGE}{plan.pk}/delete/", {"post": "yes"})
    assert Plan.objects.filter(pk=plan.pk).exists()

    admin_client.post(f"{PLANS_PAGE}{plan.pk}/change/", _plan_form(plan, is_active=""))
    plan.refresh_from_db()
    assert plan.is_active is False


def test_an_unused_plan_can_be_deleted_with_an_audit_row(admin_client):
    plan = PlanFactory(code="unused")

    response = admin_client.post(f"{PLANS_PAGE}{plan.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Plan.objects.filter(pk=plan.pk).exists()
    audit_row(action="admin.plan.delete", target_id=str(plan.pk))


def test_the_user_page_changes_a_plan_through_the_service(admin_client):
    member = UserFactory()
    data = admin_change_form(admin_client, member, subscription_plan="premium")

    response = admin_client.post(f"/admin/accounts/user/{member.pk}/change/", data)

    assert response.status_code == 302, response.content
    member.refresh_from_db()
    assert member.subscription_plan_id == "premium"
    change = PlanChange.objects.get(user=member)
    assert (change.from_plan, change.to_plan, change.reason) == ("free", "premium", "admin form")
    assert CreditAccount.objects.get(user=member).conversation_reset == 500
    audit_row(action=AuditAction.PLAN_CHANGE, target_id=str(member.pk))


def test_the_user_page_does_not_offer_an_inactive_plan(admin_client):
    PlanFactory(code="retired", is_active=False)
    member = UserFactory()
    data = admin_change_form(admin_client, member, subscription_plan="retired")

    response = admin_client.post(f"/admin/accounts/user/{member.pk}/change/", data)

    assert response.status_code == 200  # the form again: not a valid choice
    member.refresh_from_db()
    assert member.subscription_plan_id == "free"
    assert not PlanChange.objects.exists()
