"""Attacks on the profile and its privacy through HTTP: what a viewer who may not see
an address can still learn of it, and what a user may do to another's profile."""

import pytest

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope
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


# ----- the privacy choices are not staff's to switch off -------------------------------


def _hide_email(user) -> None:
    user.preferences = {"privacy": {"show_email": False, "profile_visibility": "private"}}
    user.save(update_fields=["preferences"])


def _stored_preferences(user) -> dict:
    user.refresh_from_db(fields=["preferences"])
    return user.preferences


@pytest.mark.parametrize(
    "patch",
    [
        {"privacy": {"show_email": True}},
        {"privacy": {"profile_visibility": "public"}},
        {"privacy": None},
    ],
    ids=["show-email", "visibility", "reset-privacy"],
)
def test_a_moderator_cannot_switch_off_a_members_privacy_to_read_the_hidden_email(
    api_client, world, patch
):
    """A moderator holds `write:users` over the member, but `privacy` is what hides the
    member's email from that moderator: flipping it would show the address in the very
    answer (and a bulk call could flip it back unseen)."""
    _hide_email(world.member)

    response = api_client.patch(
        f"{USERS}/{world.member.pk}",
        {"preferences": patch},
        format="json",
        **world.auth("moderator"),
    )

    assert response.status_code == 403, response.content
    assert world.member.email not in response.content.decode()
    assert _stored_preferences(world.member) == {
        "privacy": {"show_email": False, "profile_visibility": "private"}
    }


def test_a_moderator_cannot_switch_off_privacy_in_bulk(api_client, world):
    _hide_email(world.member)

    response = api_client.post(
        "/api/v1/users/preferences/bulk",
        {
            "ids": [world.member.pk, world.users["user"].pk],
            "preferences": {"privacy": {"show_email": True}},
        },
        format="json",
        **world.auth("moderator"),
    )

    assert response.status_code == 403, response.content
    assert _stored_preferences(world.member)["privacy"]["show_email"] is False


def test_a_moderator_still_changes_a_members_other_preferences(api_client, world):
    _hide_email(world.member)

    response = api_client.patch(
        f"{USERS}/{world.member.pk}",
        {"preferences": {"theme": "dark"}},
        format="json",
        **world.auth("moderator"),
    )

    assert response.status_code == 200, response.content
    assert response.json()["email"] is None
    assert _stored_preferences(world.member)["theme"] == "dark"


@pytest.mark.parametrize("admin", ["tenant_admin", "platform_admin"])
def test_admins_who_see_every_address_may_change_a_members_privacy(api_client, world, admin):
    _hide_email(world.member)

    response = api_client.patch(
        f"{USERS}/{world.member.pk}",
        {"preferences": {"privacy": {"profile_visibility": "tenant"}}},
        format="json",
        **world.auth(admin),
    )

    assert response.status_code == 200, response.content
    assert _stored_preferences(world.member)["privacy"]["profile_visibility"] == "tenant"


# ----- a huge preferences document ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "wrap"),
    [
        ("put", "/api/v1/users/me/preferences", lambda doc: doc),
        ("patch", "/api/v1/users/me/preferences", lambda doc: doc),
        ("patch", "/api/v1/users/me", lambda doc: {"preferences": doc}),
    ],
    ids=["put", "patch", "profile"],
)
def test_a_huge_preferences_document_is_refused_in_a_few_words(
    api_client, world, method, url, wrap
):
    """A body of tens of thousands of unknown keys (up to the body limit) was answered with
    one error line per key: megabytes of answer and seconds of work per request."""
    document = {f"key{number}": 0 for number in range(20_000)}

    response = getattr(api_client, method)(url, wrap(document), format="json", **world.auth("user"))

    body = assert_envelope(response, 400, "PREFERENCES_INVALID")
    assert len(response.content) < 2_000
    assert len(body["errors"]) == 1
    assert _stored_preferences(world.users["user"]) == {}


def test_a_huge_bulk_preferences_document_is_refused_in_a_few_words(api_client, world):
    document = {"integrations": {f"key{number}": {} for number in range(20_000)}}

    response = api_client.post(
        "/api/v1/users/preferences/bulk",
        {"ids": [world.member.pk], "preferences": document},
        format="json",
        **world.auth("tenant_admin"),
    )

    body = assert_envelope(response, 400, "PREFERENCES_INVALID")
    assert len(response.content) < 2_000
    assert body["fields"] == ["preferences"]
