"""Attacks on the profile and its privacy through HTTP: what a viewer who may not see
an address can still learn of it, and what a user may do to another's profile."""

import pytest

from accounts.tests.factories import UserFactory
from accounts.tests.world import build_world, builtin

USERS = "/api/v1/users"


@pytest.fixture
def world(db):
    return build_world()


def _member(world, username: str, email: str, *, hidden: bool):
    preferences = {"privacy": {"show_email": False}} if hidden else {}
    return UserFactory(
        username=username,
        email=email,
        tenant=world.tenant_a,
        role=builtin("user"),
        preferences=preferences,
    )


@pytest.mark.parametrize("ordering", ["email", "-email"])
def test_ordering_by_email_does_not_place_hidden_addresses_for_a_moderator(
    api_client, world, ordering
):
    """Sorting by email is an oracle: a moderator who creates or edits a probe account
    and watches where a hidden address lands next to it learns the address letter by
    letter. Hidden addresses sort after every shown one, by id, in both directions."""
    hidden_z = _member(world, "hidden_z", "zz-secret@example.com", hidden=True)
    hidden_a = _member(world, "hidden_a", "aa-secret@example.com", hidden=True)
    shown_m = _member(world, "shown_m", "mm-shown@example.com", hidden=False)
    shown_b = _member(world, "shown_b", "bb-shown@example.com", hidden=False)

    response = api_client.get(
        USERS,
        {"ordering": ordering, "page_size": 200},
        **world.auth("moderator"),
    )

    assert response.status_code == 200, response.content
    probed = {hidden_z.pk, hidden_a.pk, shown_m.pk, shown_b.pk}
    ids = [row["id"] for row in response.json()["results"] if row["id"] in probed]
    shown = [shown_b.pk, shown_m.pk] if ordering == "email" else [shown_m.pk, shown_b.pk]
    assert ids == [*shown, hidden_z.pk, hidden_a.pk]


def test_ordering_by_email_still_sorts_every_address_for_the_tenant_admin(api_client, world):
    hidden_z = _member(world, "hidden_z", "zz-secret@example.com", hidden=True)
    hidden_a = _member(world, "hidden_a", "aa-secret@example.com", hidden=True)
    shown_m = _member(world, "shown_m", "mm-shown@example.com", hidden=False)

    response = api_client.get(
        USERS, {"ordering": "email", "search": "-s"}, **world.auth("tenant_admin")
    )

    assert response.status_code == 200, response.content
    ids = [row["id"] for row in response.json()["results"]]  # admins search every address
    assert ids == [hidden_a.pk, shown_m.pk, hidden_z.pk]
