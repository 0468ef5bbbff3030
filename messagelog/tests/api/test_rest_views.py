"""GET /api/v1/users/me/messages: a user reads back their own conversations."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope, bearer, login
from apikeys.services import apikey_regenerate_primary
from messagelog.tests.factories import MessageLogFactory

MESSAGES = "/api/v1/users/me/messages"
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def auth(api_client, owner):
    return bearer(login(api_client, owner.email)["access_token"])


def test_the_owner_reads_their_conversations_newest_first(api_client, owner, auth):
    older = MessageLogFactory(user_id=owner.pk, timestamp=NOON - timedelta(hours=1))
    newer = MessageLogFactory(user_id=owner.pk, timestamp=NOON)
    MessageLogFactory(user_id=owner.pk + 1000, timestamp=NOON)  # someone else's

    response = api_client.get(MESSAGES, **auth)

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert [row["id"] for row in body["results"]] == [str(newer.pk), str(older.pk)]
    assert body["results"][0]["messages"] == newer.messages
    assert body["next"] is None


def test_keyset_pages_walk_the_whole_log_once(api_client, owner, auth):
    made = [
        MessageLogFactory(user_id=owner.pk, timestamp=NOON - timedelta(minutes=minute))
        for minute in range(7)
    ]
    seen, url = [], f"{MESSAGES}?page_size=3"

    while url:
        body = api_client.get(url, **auth).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert seen == [str(row.pk) for row in made]


def test_filters_by_time_and_model(api_client, owner, auth):
    MessageLogFactory(user_id=owner.pk, timestamp=NOON - timedelta(days=2), model="echo-1")
    wanted = MessageLogFactory(user_id=owner.pk, timestamp=NOON, model="echo-2")
    MessageLogFactory(user_id=owner.pk, timestamp=NOON, model="echo-1")

    response = api_client.get(
        MESSAGES,
        {"since": "2026-12-01T00:00:00Z", "until": "2026-12-02T00:00:00Z", "model": "echo-2"},
        **auth,
    )

    assert [row["id"] for row in response.json()["results"]] == [str(wanted.pk)]


@pytest.mark.parametrize(("name", "value"), [("since", "yesterday"), ("until", "12/01/2026")])
def test_a_filter_that_is_not_a_time_is_400(api_client, auth, name, value):
    response = api_client.get(MESSAGES, {name: value}, **auth)

    body = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert any(error.startswith(f"{name}:") for error in body["errors"])


def test_a_forged_cursor_is_404_in_the_envelope(api_client, auth):
    response = api_client.get(MESSAGES, {"cursor": "not-a-cursor"}, **auth)

    assert_envelope(response, 404)


def test_an_api_key_does_not_open_the_conversations(api_client, owner):
    """A leaked key spends credits; it must not also read everything ever said."""
    MessageLogFactory(user_id=owner.pk)
    key = apikey_regenerate_primary(user=owner, actor=owner).clear

    response = api_client.get(MESSAGES, HTTP_AUTHORIZATION=f"Bearer {key}")

    assert_envelope(response, 401, "API_KEY_NOT_ACCEPTED")


def test_the_personal_data_export_holds_the_conversations(api_client, owner, auth):
    logged = MessageLogFactory(user_id=owner.pk)
    MessageLogFactory(user_id=owner.pk + 1000)

    body = api_client.get("/api/v1/users/me/export", **auth).json()

    assert [row["id"] for row in body["conversations"]] == [str(logged.pk)]
    assert body["conversations"][0]["messages"] == logged.messages
