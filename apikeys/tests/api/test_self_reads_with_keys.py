"""A key reads its owner's own settings (preferences and their history, plan, billing,
the plans on offer) with `read:self`; changing them takes a login session."""

import pytest

from accounts.tests.helpers import assert_envelope, bearer, login
from accounts.tests.world import build_world

READS = [
    "/api/v1/users/me/preferences",
    "/api/v1/users/me/preferences/history",
    "/api/v1/plans",
    "/api/v1/users/me/billing",
    "/api/v1/users/me/billing/history",
]


@pytest.fixture
def world(db):
    return build_world()


def _key_of(api_client, user, scopes) -> dict:
    response = api_client.post(
        "/api/v1/api-keys",
        {"name": "reader", "scopes": scopes},
        format="json",
        **bearer(login(api_client, user.email)["access_token"]),
    )
    assert response.status_code == 201, response.content
    return {"HTTP_X_API_KEY": response.json()["api_key"]}


@pytest.mark.parametrize("path", READS)
def test_a_read_key_reads_its_owners_own_settings(api_client, world, path):
    member = world.users["user"]
    member.preferences = {"theme": "dark"}
    member.save(update_fields=["preferences"])
    key = _key_of(api_client, member, ["read"])

    response = api_client.get(path, **key)

    assert response.status_code == 200, response.content
    if path.endswith("/preferences"):
        assert response.json()["theme"] == "dark"


@pytest.mark.parametrize("path", READS[:1])
def test_a_key_without_read_self_reads_nothing(api_client, world, path):
    key = _key_of(api_client, world.users["user"], ["read:models"])

    assert_envelope(api_client.get(path, **key), 403)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("put", "/api/v1/users/me/preferences", {"theme": "light"}),
        ("patch", "/api/v1/users/me/preferences", {"theme": "light"}),
        ("put", "/api/v1/users/me/billing", {"billing_email": "x@example.com"}),
    ],
)
def test_a_key_changes_none_of_them(api_client, world, method, path, body):
    member = world.users["user"]
    key = _key_of(api_client, member, ["read", "write"])

    response = getattr(api_client, method)(path, body, format="json", **key)

    assert_envelope(response, 401, "API_KEY_NOT_ACCEPTED")
    member.refresh_from_db()
    assert member.preferences.get("theme") is None and member.billing_email == ""
