"""Attacks on plans through HTTP: a user giving themselves a better plan through any
route or field name, and staff below the plan right changing one."""

import pytest

from accounts.models import User
from accounts.tests.world import build_world
from credits.models import PlanChange
from support.tests.helpers import make_staff, staff_auth

PLAN_FIELD_VARIANTS = [
    {"subscription_plan": "enterprise"},
    {"subscription_plan_id": "enterprise"},
    {"plan": "enterprise"},
    {"plan": {"code": "enterprise"}},
    {"user": {"subscription_plan": "enterprise"}},
    {"billing": {"plan": "enterprise"}},
]


@pytest.fixture
def world(db, settings):
    settings.RATELIMIT_ENABLE = False
    return build_world()


def _plan_of(user) -> str:
    return User.objects.get(pk=user.pk).subscription_plan_id


@pytest.mark.parametrize("body", PLAN_FIELD_VARIANTS)
@pytest.mark.parametrize(
    ("actor", "method", "url"),
    [
        ("user", "patch", "/api/v1/users/me"),
        ("user", "put", "/api/v1/users/me"),
        ("user", "put", "/v1/users/profile"),
        ("user", "put", "/api/v1/users/me/billing"),
        ("tenant_admin", "patch", "/api/v1/users/{own}"),
        ("moderator", "put", "/api/v1/users/{own}"),
    ],
)
def test_nobody_upgrades_their_own_plan_through_a_self_route_or_a_field_name(
    api_client, world, actor, method, url, body
):
    user = world.users[actor]
    payload = {**body, "billing_email": "bills@example.com"} if "billing" in url else body

    response = getattr(api_client, method)(
        url.format(own=user.pk), payload, format="json", **world.auth(actor)
    )

    assert response.status_code in {200, 400, 403}, response.content
    assert _plan_of(user) == "free"
    assert not PlanChange.objects.filter(user=user).exists()


@pytest.mark.parametrize("actor", ["tenant_admin", "moderator", "user"])
def test_nobody_but_a_platform_admin_upgrades_themselves_on_the_plan_route(
    api_client, world, actor
):
    user = world.users[actor]

    response = api_client.put(
        f"/api/v1/users/{user.pk}/plan",
        {"subscription_plan": "enterprise"},
        format="json",
        **world.auth(actor),
    )

    assert response.status_code == 403, response.content
    assert _plan_of(user) == "free"


@pytest.mark.parametrize("level", ["new", "support", "advanced"])
def test_support_staff_never_upgrade_themselves(api_client, world, level):
    staff = make_staff(level, tenant=world.tenant_a)

    for url in (f"/v1/support/users/{staff.pk}/plan", f"/v1/support/users/{staff.pk}"):
        response = api_client.put(
            url, {"subscription_plan": "enterprise"}, format="json", **staff_auth(staff)
        )
        assert response.status_code in {403, 404}, response.content

    assert _plan_of(staff) == "free"


def test_a_tenant_admin_cannot_change_a_plan_in_another_tenant_by_any_route(api_client, world):
    target = world.other_member
    auth = world.auth("tenant_admin")

    answers = [
        api_client.put(
            f"/api/v1/users/{target.pk}/plan",
            {"subscription_plan": "premium"},
            format="json",
            **auth,
        ),
        api_client.patch(
            f"/api/v1/users/{target.pk}", {"subscription_plan": "premium"}, format="json", **auth
        ),
        api_client.put(
            f"/v1/admin-panel/users/{target.pk}/plan",
            {"subscription_plan": "premium"},
            format="json",
            **auth,
        ),
    ]

    assert [answer.status_code for answer in answers] == [404, 404, 403]
    assert _plan_of(target) == "free"
