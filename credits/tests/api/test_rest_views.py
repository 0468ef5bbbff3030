"""/api/v1/users/me/credits and /api/v1/users/<id>/credits: the balance and staff changes."""

import pytest

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope, bearer, login
from accounts.tests.world import build_world
from apikeys.services import apikey_regenerate_primary
from credits.models import CreditLedgerEntry
from credits.services import (
    account_for,
)
from credits.tests.helpers import COMPLETIONS, PROMPT


def test_my_credits_shows_balance_and_use(api_client, db):
    user = UserFactory()
    key = apikey_regenerate_primary(user=user, actor=user).clear
    api_client.post(COMPLETIONS, PROMPT, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")
    auth = bearer(login(api_client, user.email)["access_token"])

    body = api_client.get("/api/v1/users/me/credits", **auth).json()

    assert body["limits"] == {"conversation_limit": 9, "reset": 10}
    assert body["credits"] == {"main": 5, "reset": 5}
    assert body["used_today"] == 1


def test_staff_change_goes_through_one_service_with_a_ledger_row(api_client, db):
    world = build_world()

    response = api_client.put(
        f"/api/v1/users/{world.member.pk}/credits",
        {
            "credits": {"main": 50, "reset": 50},
            "limits": {"conversation_limit": 50, "reset": 50},
            "reason": "goodwill",
        },
        format="json",
        **world.auth("tenant_admin"),
    )

    assert response.status_code == 200
    entry = CreditLedgerEntry.objects.get(kind="staff_change")
    assert entry.actor_id == world.users["tenant_admin"].pk
    assert entry.reason == "goodwill"
    assert entry.before["limits"] == {"conversation_limit": 10, "reset": 10}
    assert entry.after["limits"] == {"conversation_limit": 50, "reset": 50}


@pytest.mark.parametrize(
    ("actor", "status"), [("other_admin", 404), ("user", 404), ("moderator", 200)]
)
def test_staff_change_is_scoped(api_client, db, actor, status):
    world = build_world()

    response = api_client.put(
        f"/api/v1/users/{world.member.pk}/credits",
        {"limits": {"conversation_limit": 1}},
        format="json",
        **world.auth(actor),
    )

    assert response.status_code == status


def test_staff_who_may_not_change_the_user_get_403_whatever_they_send(api_client, db):
    world = build_world()

    response = api_client.put(
        f"/api/v1/users/{world.users['tenant_admin'].pk}/credits",
        {"reason": "x" * 600},
        format="json",
        **world.auth("moderator"),
    )

    assert_envelope(response, 403)


@pytest.mark.parametrize(
    "change",
    [
        {"limits": {"conversation_limit": -5}},
        {"limits": {"reset": 2**31}},
        {"credits": {"main": 10**12}},
        {"credits": {"main": "5"}},
        {"credits": {"main": 5.0}},
        {"limits": {"conversation_limit": True}},
        {"credits": {"bonus": 5}},
        {"limits": [5]},
        {},
        {"bogus": 1},
        {"credits": {}},
    ],
)
def test_a_credit_change_of_another_shape_is_400_and_changes_nothing(api_client, db, change):
    world = build_world()
    before = account_for(world.member).limits()

    response = api_client.put(
        f"/api/v1/users/{world.member.pk}/credits",
        change,
        format="json",
        **world.auth("platform_admin"),
    )

    assert_envelope(response, 400)
    assert account_for(world.member).limits() == before
    assert not CreditLedgerEntry.objects.exists()
