"""The OpenAI-compatible backend: what it sends, and every way it can fail (refunded)."""

import pytest

from accounts.tests.helpers import assert_envelope
from credits.models import CreditLedgerEntry
from gateway.tests.helpers import BATCH, COMPLETIONS, PROMPT, limit_of, logged


def test_openai_compatible_backend_is_called(api_client, keyed, upstream):
    _, auth = keyed

    body = api_client.post(COMPLETIONS, PROMPT, format="json", **auth).json()

    assert body["choices"][0]["message"]["content"] == "From upstream"
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [("error", 502, "LLM_BACKEND_ERROR"), ("slow", 504, "LLM_BACKEND_TIMEOUT")],
)
def test_backend_failure_refunds_the_credit(api_client, keyed, upstream, mode, status, code):
    user, auth = keyed
    upstream.mode = mode

    response = api_client.post(COMPLETIONS, PROMPT, format="json", **auth)

    assert_envelope(response, status, code)
    assert limit_of(user) == 10
    assert CreditLedgerEntry.objects.filter(kind="refund").count() == 1
    assert not logged().exists()


def test_token_counts_past_what_the_log_can_hold_are_capped(api_client, keyed, upstream):
    _, auth = keyed
    upstream.mode = "huge-usage"

    body = api_client.post(COMPLETIONS, PROMPT, format="json", **auth).json()

    assert body["usage"]["total_tokens"] <= 2**31 - 1
    assert logged().get().tokens_used == body["usage"]["total_tokens"]


def test_an_answer_without_usage_counts_no_tokens(api_client, keyed, upstream):
    _, auth = keyed
    upstream.mode = "no-usage"

    body = api_client.post(COMPLETIONS, PROMPT, format="json", **auth).json()

    assert body["choices"][0]["message"]["content"] == "From upstream"
    assert body["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


@pytest.mark.parametrize("mode", ["odd-message", "infinite-usage", "deep", "lone-surrogate"])
def test_an_answer_of_another_shape_is_502_and_refunded(api_client, keyed, upstream, mode):
    user, auth = keyed
    upstream.mode = mode

    assert_envelope(api_client.post(COMPLETIONS, PROMPT, format="json", **auth), 502)
    assert limit_of(user) == 10


@pytest.mark.parametrize("direct", [True, False], ids=["written-directly", "queued"])
def test_an_answer_holding_nul_is_served_and_logged(
    api_client, keyed, upstream, monkeypatch, direct
):
    user, auth = keyed
    upstream.mode = "nul"
    if direct:
        monkeypatch.setattr("messagelog.services.message_queue", lambda: None)

    response = api_client.post(COMPLETIONS, PROMPT, format="json", **auth)

    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "From\x00upstream"
    assert limit_of(user) == 9
    entry = logged().get()
    assert entry.messages["response"]["content"] == "From\ufffdupstream"


def test_batch_backend_failure_refunds_every_credit(api_client, keyed, upstream):
    user, auth = keyed
    upstream.mode = "error"

    response = api_client.post(BATCH, {"prompts": [PROMPT, PROMPT]}, format="json", **auth)

    assert_envelope(response, 502)
    assert limit_of(user) == 10
