"""Billing in the personal data: the export carries the plan, the billing email and
the plan history; the purge of a deleted account clears the billing email, and the
erasure removes it with the row and its plan history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.services.lifecycle import account_erase, deleted_accounts_purge
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import bearer, login
from credits.models import PlanChange
from credits.services import plan_change

pytestmark = pytest.mark.django_db


def _admin() -> User:
    return UserFactory(is_staff=True, is_superuser=True)


def test_the_export_holds_the_plan_the_billing_email_and_the_plan_history(api_client):
    user = UserFactory(billing_email="invoices@example.com")
    plan_change(actor=_admin(), user=user, plan="basic", reason="trial")
    tokens = login(api_client, user.email)

    body = api_client.get("/api/v1/users/me/export", **bearer(tokens["access_token"])).json()

    assert body["billing"]["plan"] == "basic"
    assert body["billing"]["billing_email"] == "invoices@example.com"
    assert [
        (row["from_plan"], row["to_plan"], row["reason"]) for row in body["billing"]["plan_history"]
    ] == [("free", "basic", "trial")]


def test_the_purge_clears_the_billing_email():
    user = UserFactory(billing_email="invoices@example.com")
    User.objects.filter(pk=user.pk).update(
        status=User.Status.DELETED, deleted_at=timezone.now() - timedelta(days=400)
    )

    deleted_accounts_purge(actor=None)

    user.refresh_from_db()
    assert user.purged_at is not None
    assert user.billing_email == ""


def test_the_erasure_removes_the_billing_email_and_the_plan_history():
    admin = _admin()
    user = UserFactory(billing_email="invoices@example.com")
    plan_change(actor=admin, user=user, plan="premium")

    account_erase(user=user, actor=admin, reason="erasure request")

    assert not User.objects.filter(billing_email="invoices@example.com").exists()
    assert not PlanChange.objects.filter(user_id=user.pk).exists()
