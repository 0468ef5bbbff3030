"""Plan changes by staff: `/v1/support/users/<id>/plan` and `PUT /v1/support/users/<id>`
(the `edit_plan` right of the levels) and `/v1/admin-panel/users/<id>/plan` (platform
admins) all go through the credits service's plan change."""

import pytest

from accounts.models import User
from accounts.tests.helpers import assert_envelope
from credits.models import CreditLedgerEntry, PlanChange
from credits.services import account_for
from credits.tests.factories import PlanFactory
from security.models import AuditAction
from security.tests.helpers import audit_row
from support.tests.helpers import build_staff_world, staff_name


@pytest.fixture
def sw(db):
    return build_staff_world()


def plan_of(user) -> str:
    return User.objects.get(pk=user.pk).subscription_plan_id


def support_url(user, tail: str = "") -> str:
    return f"/v1/support/users/{user.pk}{tail}"


def test_support_staff_change_a_plan_with_its_amounts_history_and_reason(api_client, sw):
    member = sw.world.member
    staff = sw.staff[staff_name("support", "global")]

    response = api_client.put(
        support_url(member, "/plan"),
        {"subscription_plan": "premium", "reason": "ticket 7"},
        format="json",
        **sw.auth(staff_name("support", "global")),
    )

    assert response.status_code == 200, response.content
    assert plan_of(member) == "premium"
    assert account_for(member).limits() == {"conversation_limit": 500, "reset": 500}
    change = PlanChange.objects.get(user=member)
    assert (change.actor_id, change.reason) == (staff.pk, "ticket 7")
    assert CreditLedgerEntry.objects.get(kind="plan_change").actor_id == staff.pk


def test_the_support_user_update_changes_the_plan_through_the_service(api_client, sw):
    member = sw.world.member

    response = api_client.put(
        support_url(member),
        {"subscription_plan": "basic"},
        format="json",
        **sw.auth(staff_name("advanced", "global")),
    )

    assert response.status_code == 200, response.content
    assert plan_of(member) == "basic"
    assert PlanChange.objects.get(user=member).to_plan == "basic"
    audit_row(action=AuditAction.PLAN_CHANGE, target_id=str(member.pk))


@pytest.mark.parametrize(
    ("tail", "code"), [("/plan", "SUPPORT_RIGHT_MISSING"), ("", "SUPPORT_FIELD_NOT_EDITABLE")]
)
def test_a_level_without_edit_plan_is_refused(api_client, sw, tail, code):
    member = sw.world.member

    response = api_client.put(
        support_url(member, tail),
        {"subscription_plan": "enterprise"},
        format="json",
        **sw.auth(staff_name("new", "global")),
    )

    assert_envelope(response, 403, code)
    assert plan_of(member) == "free"
    assert not PlanChange.objects.exists()


def test_tenant_staff_cannot_change_another_tenants_user(api_client, sw):
    response = api_client.put(
        support_url(sw.world.other_member, "/plan"),
        {"subscription_plan": "enterprise"},
        format="json",
        **sw.auth(staff_name("support", "tenant")),
    )

    assert_envelope(response, 404)
    assert plan_of(sw.world.other_member) == "free"


def test_support_staff_cannot_give_an_inactive_plan(api_client, sw):
    PlanFactory(code="retired", is_active=False)

    response = api_client.put(
        support_url(sw.world.member, "/plan"),
        {"subscription_plan": "retired"},
        format="json",
        **sw.auth(staff_name("support", "global")),
    )

    assert_envelope(response, 400, "PLAN_INACTIVE")
    assert plan_of(sw.world.member) == "free"


# ----- the admin panel ----------------------------------------------------------------------


def test_a_platform_admin_changes_a_plan_in_the_admin_panel(api_client, sw):
    member = sw.world.member

    response = api_client.put(
        f"/v1/admin-panel/users/{member.pk}/plan",
        {"subscription_plan": "enterprise", "reason": "contract signed"},
        format="json",
        **sw.auth("platform_admin"),
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["subscription_plan"] == "enterprise"
    assert body["limits"] == {"conversation_limit": 5000, "reset": 5000}
    assert PlanChange.objects.get(user=member).reason == "contract signed"


@pytest.mark.parametrize(("plan", "code"), [("platinum", "UNKNOWN_PLAN"), ("", "VALIDATION_ERROR")])
def test_the_admin_panel_refuses_a_plan_that_is_not_offered(api_client, sw, plan, code):
    response = api_client.put(
        f"/v1/admin-panel/users/{sw.world.member.pk}/plan",
        {"subscription_plan": plan},
        format="json",
        **sw.auth("platform_admin"),
    )

    assert_envelope(response, 400, code)
    assert plan_of(sw.world.member) == "free"


@pytest.mark.parametrize("actor", ["tenant_admin", "user"])
def test_only_platform_admins_use_the_admin_panel_plan_route(api_client, sw, actor):
    response = api_client.put(
        f"/v1/admin-panel/users/{sw.world.member.pk}/plan",
        {"subscription_plan": "enterprise"},
        format="json",
        **sw.auth(actor),
    )

    assert_envelope(response, 403)
    assert plan_of(sw.world.member) == "free"
