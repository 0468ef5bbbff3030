"""The /v1/admin-panel user routes (support.api.v1_views), where staff change a user's
plan and balance."""

import pytest

from accounts.models import User
from accounts.tests.helpers import ME_URL, assert_envelope, bearer, login
from accounts.tests.world import build_world
from credits.models import CreditLedgerEntry
from credits.services import account_for
from security.models import AuditAction, SecurityEvent
from security.tests.helpers import audit_row

PLAN_UPDATE = {
    "subscription_plan": "premium",
    "credits": {"main": 100, "reset": 100},
    "limits": {"conversation_limit": 100, "reset": 100},
}


@pytest.fixture
def world(db):
    return build_world()


def user_url(user) -> str:
    return f"/v1/admin-panel/users/{user.pk}"


def test_the_admin_panel_update_changes_plan_and_balance_with_a_ledger_row(api_client, world):
    response = api_client.put(
        user_url(world.member), PLAN_UPDATE, format="json", **world.auth("platform_admin")
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["subscription_plan"] == "premium"
    assert body["credits"] == {"main": 100, "reset": 100}
    assert body["limits"] == {"conversation_limit": 100, "reset": 100}
    assert User.objects.get(pk=world.member.pk).subscription_plan_id == "premium"
    assert account_for(world.member).limits() == {"conversation_limit": 100, "reset": 100}
    entry = CreditLedgerEntry.objects.get(kind="staff_change")
    assert entry.actor_id == world.users["platform_admin"].pk
    audit_row(action=AuditAction.CREDITS_CHANGE, target_id=str(world.member.pk))


def test_a_refused_balance_leaves_the_plan_as_it_was(api_client, world):
    plan = world.member.subscription_plan_id

    response = api_client.put(
        user_url(world.member),
        {**PLAN_UPDATE, "credits": {"main": "100"}},
        format="json",
        **world.auth("platform_admin"),
    )

    assert_envelope(response, 400)
    assert User.objects.get(pk=world.member.pk).subscription_plan_id == plan
    assert not CreditLedgerEntry.objects.exists()


def test_a_refused_balance_is_refused_before_a_suspension_can_end_sessions(api_client, world):
    member_auth = bearer(login(api_client, world.member.email)["access_token"])

    response = api_client.put(
        user_url(world.member),
        {"status": "suspended", "credits": {"main": "100"}},
        format="json",
        **world.auth("platform_admin"),
    )

    assert_envelope(response, 400)
    assert User.objects.get(pk=world.member.pk).status == User.Status.ACTIVE
    assert api_client.get(ME_URL, **member_auth).status_code == 200


@pytest.mark.parametrize("body", [{}, {"reason": "nothing else"}])
def test_an_update_that_changes_nothing_is_400(api_client, world, body):
    response = api_client.patch(
        user_url(world.member), body, format="json", **world.auth("platform_admin")
    )

    assert_envelope(response, 400)
    assert response.json()["error_code"] == "NOTHING_TO_CHANGE"


def test_an_update_that_changes_nothing_is_400_whichever_id_it_names(api_client, world):
    response = api_client.patch(
        "/v1/admin-panel/users/99999999", {}, format="json", **world.auth("platform_admin")
    )

    assert_envelope(response, 400)
    assert response.json()["error_code"] == "NOTHING_TO_CHANGE"


@pytest.mark.parametrize("actor", ["tenant_admin", "moderator", "user"])
def test_the_admin_panel_is_for_platform_admins_only(api_client, world, actor):
    before = account_for(world.users[actor]).limits()

    response = api_client.put(
        user_url(world.users[actor]),
        {"limits": {"conversation_limit": 10**6}},
        format="json",
        **world.auth(actor),
    )

    assert_envelope(response, 403)
    assert account_for(world.users[actor]).limits() == before
    assert not CreditLedgerEntry.objects.exists()
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.PERMISSION_DENIED, user_id=world.users[actor].pk
    ).exists()


def test_a_platform_admin_may_change_their_own_credits(api_client, world):
    admin = world.users["platform_admin"]

    response = api_client.put(
        user_url(admin),
        {"limits": {"conversation_limit": 500}},
        format="json",
        **world.auth("platform_admin"),
    )

    assert response.status_code == 200, response.content
    assert account_for(admin).limits()["conversation_limit"] == 500


def test_details_carry_the_balance_and_the_list_is_paged(api_client, world):
    auth = world.auth("platform_admin")

    detail = api_client.get(user_url(world.member), **auth).json()
    listing = api_client.get("/v1/admin-panel/users?page=1&page_size=2", **auth).json()

    assert detail["email"] == world.member.email
    assert detail["limits"] == {"conversation_limit": 10, "reset": 10}
    assert listing["pagination"]["page_size"] == 2
    assert len(listing["results"]) == 2


def test_delete_with_a_reason(api_client, world):
    response = api_client.delete(
        f"{user_url(world.member)}?reason=Policy violation", **world.auth("platform_admin")
    )

    assert response.status_code == 200, response.content
    assert User.objects.get(pk=world.member.pk).deleted_at is not None
