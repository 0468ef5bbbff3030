"""An answered conversation's entry is in Redis or the database before the answer
leaves; when neither takes it the call is refused and costs nothing."""

import pytest
import redis
from django.core.cache import cache
from django.db import OperationalError

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope
from apikeys.services import apikey_regenerate_primary
from credits.models import CreditAccount
from credits.services import account_for
from messagelog import selectors, services, store
from messagelog.models import MessageLog
from messagelog.queue import MessageQueue

COMPLETIONS = "/v1/prompt/completions"
BATCH = "/v1/batch/process"


def _prompt(text: str) -> dict:
    return {"messages": [{"role": "user", "content": text}], "r_type": "bpe"}


@pytest.fixture
def caller(db):
    user = UserFactory(username="caller", email="caller@example.com")
    account_for(user)
    key = apikey_regenerate_primary(user=user, actor=user).clear
    return user, {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def redis_down(monkeypatch):
    """A Redis that refuses connections, as the queue's server."""
    unreachable = MessageQueue(
        redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2), cache.make_key
    )
    monkeypatch.setattr(services, "message_queue", lambda: unreachable)


def _limit(user) -> int:
    return CreditAccount.objects.get(user=user).conversation_limit


def test_the_default_is_the_synchronous_push():
    from config import settings as project_settings

    assert project_settings.MESSAGE_RELAY_GATHER_MS == 0


def test_the_entry_is_in_redis_when_the_answer_arrives(api_client, caller, queue):
    _, auth = caller

    response = api_client.post(COMPLETIONS, _prompt("pushed first"), format="json", **auth)

    assert response.status_code == 200
    assert selectors.queue_depth()["queued"] == 1  # no flush, no relay thread: pushed
    assert services.flush(actor=None) == 1
    assert MessageLog.objects.get().messages["request"][0]["content"] == "pushed first"


def test_a_batch_pushes_its_entries_together(api_client, caller, queue):
    _, auth = caller
    body = {"prompts": [_prompt("one"), _prompt("two"), _prompt("three")]}

    response = api_client.post(BATCH, body, format="json", **auth)

    assert response.status_code == 200
    assert selectors.queue_depth()["queued"] == 3


def test_a_batch_that_does_not_fit_the_queue_goes_to_the_database_whole(
    api_client, caller, queue, batches
):
    _, auth = caller
    with queue.exclusive():  # the flusher is stuck: the queue stays as filled here
        queue.push([b"{}"] * 4, max_size=6)
        body = {"prompts": [_prompt("one"), _prompt("two"), _prompt("three")]}

        response = api_client.post(BATCH, body, format="json", **auth)

        assert response.status_code == 200
        assert selectors.queue_depth()["queued"] == 4  # none of the three was queued
        assert sorted(
            row.messages["request"][0]["content"] for row in MessageLog.objects.all()
        ) == ["one", "three", "two"]


def test_when_redis_is_down_the_entry_is_written_to_the_database(api_client, caller, redis_down):
    user, auth = caller

    response = api_client.post(COMPLETIONS, _prompt("kept"), format="json", **auth)

    assert response.status_code == 200
    assert MessageLog.objects.get(user_id=user.pk).messages["request"][0]["content"] == "kept"
    assert _limit(user) == 9


def test_without_redis_the_entry_is_written_before_the_answer(api_client, caller, monkeypatch):
    user, auth = caller
    monkeypatch.setattr(services, "message_queue", lambda: None)  # the embedded set-up

    response = api_client.post(COMPLETIONS, _prompt("direct"), format="json", **auth)

    assert response.status_code == 200
    assert MessageLog.objects.get(user_id=user.pk).messages["request"][0]["content"] == "direct"


def test_when_neither_redis_nor_the_database_takes_the_entry_the_call_is_refused_and_refunded(
    api_client, caller, redis_down, monkeypatch
):
    user, auth = caller

    def refuse(rows):
        raise OperationalError("the database went away")

    monkeypatch.setattr(store, "store", refuse)

    response = api_client.post(COMPLETIONS, _prompt("unanswered"), format="json", **auth)

    body = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
    assert body["message"] == services.UNLOGGED
    assert "choices" not in body
    assert _limit(user) == 10  # the credit taken for the call was given back
    assert not MessageLog.objects.exists()


def test_the_relay_is_opt_in_and_answers_before_the_push(api_client, caller, queue, settings):
    _, auth = caller
    settings.MESSAGE_RELAY_GATHER_MS = 600_000
    try:
        response = api_client.post(COMPLETIONS, _prompt("relayed"), format="json", **auth)
        assert response.status_code == 200
        assert selectors.queue_depth()["queued"] == 0  # still in this process's memory
    finally:
        services.drain_relay()
    assert selectors.queue_depth()["queued"] == 1
