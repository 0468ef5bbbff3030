"""/v1/chat/completions and /v1/models: OpenAI's shapes on the metered path."""

import json

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from rest_framework.test import APIRequestFactory

from accounts.tests.helpers import bearer, login
from apikeys.services import apikey_regenerate_primary
from credits.models import CreditAccount, CreditLedgerEntry
from gateway.api.openai_views import ChatCompletionsView
from gateway.tests.helpers import COMPLETIONS, PROMPT, limit_of, logged

CHAT = "/v1/chat/completions"
MODELS = "/v1/models"
HELLO = {"model": "echo-1", "messages": [{"role": "user", "content": "Hello there"}]}


def _events(response) -> list:
    assert response["Content-Type"] == "text/event-stream"
    text = b"".join(response.streaming_content).decode()
    assert text.endswith("\n\n")
    events = [block.removeprefix("data: ") for block in text.split("\n\n") if block]
    return [event if event == "[DONE]" else json.loads(event) for event in events]


def _openai_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == error["error_code"] == code
    assert error["success"] is False
    assert {"message", "type", "param", "errors", "details"} <= set(error)
    return error


def test_a_plain_completion_is_openai_shaped_metered_and_logged(api_client, keyed):
    user, auth = keyed

    response = api_client.post(CHAT, HELLO, format="json", REMOTE_ADDR="192.0.2.7", **auth)

    body = response.json()
    assert response.status_code == 200
    assert body["object"] == "chat.completion"
    assert body["model"] == "echo-1"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Echo: Hello there"},
            "finish_reason": "stop",
        }
    ]
    assert limit_of(user) == 9
    log = logged().get()
    assert log.messages == {
        "request": HELLO["messages"],
        "response": {"role": "assistant", "content": "Echo: Hello there"},
    }
    assert (log.user_id, log.model, log.ip_address) == (user.pk, "echo-1", "192.0.2.7")
    assert log.tokens_used == body["usage"]["total_tokens"] == 5


def test_a_streamed_completion_sends_chunks_then_done_and_logs_the_assembled_answer(
    api_client, keyed
):
    user, auth = keyed
    body = {**HELLO, "stream": True, "stream_options": {"include_usage": True}}

    events = _events(api_client.post(CHAT, body, format="json", **auth))

    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]]
    assert "".join(pieces) == "Echo: Hello there"
    assert len([piece for piece in pieces if piece]) == 3
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    assert limit_of(user) == 9
    log = logged().get()
    assert log.messages["response"] == {"role": "assistant", "content": "Echo: Hello there"}
    assert log.tokens_used == 5


@pytest.mark.parametrize("accept", ["text/event-stream", "text/html", "image/png"])
def test_whatever_accept_says_the_answer_is_json_or_events(api_client, keyed, accept):
    _, auth = keyed

    plain = api_client.post(CHAT, HELLO, format="json", HTTP_ACCEPT=accept, **auth)
    streamed = api_client.post(
        CHAT, {**HELLO, "stream": True}, format="json", HTTP_ACCEPT=accept, **auth
    )
    refused = api_client.post(CHAT, {**HELLO, "n": 3}, format="json", HTTP_ACCEPT=accept, **auth)

    assert plain["Content-Type"] == "application/json"
    assert plain.json()["object"] == "chat.completion"
    assert _events(streamed)[-1] == "[DONE]"
    _openai_error(refused, 400, "VALIDATION_ERROR")


def test_text_parts_and_every_role_are_read(api_client, keyed):
    _, auth = keyed
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "Really."}]},
        {"role": "assistant", "content": None},
        {"role": "tool", "content": "42", "tool_call_id": "call_1"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "you"}],
        },
    ]

    response = api_client.post(CHAT, {**HELLO, "messages": messages}, format="json", **auth)

    assert response.json()["choices"][0]["message"]["content"] == "Echo: Hi you"
    assert logged().get().messages["request"][-1] == {"role": "user", "content": "Hi you"}


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"n": 2}, "n"),
        ({"n": True}, "n"),
        ({"max_tokens": 4097}, "max_tokens"),
        ({"max_completion_tokens": 10**9}, "max_completion_tokens"),
        ({"temperature": 3}, "temperature"),
        ({"stream": "yes"}, "stream"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"stream": True, "stream_options": {"include_usage": 1}}, "stream_options.include_usage"),
        ({"tools": [{"type": "function"}]}, "tools"),
        ({"model": ""}, "model"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": None}]}, "messages[0].content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
            "messages[0].content",
        ),
    ],
)
def test_what_cannot_be_honoured_is_400_in_openai_shape_and_free(api_client, keyed, change, param):
    user, auth = keyed

    response = api_client.post(CHAT, {**HELLO, **change}, format="json", **auth)

    error = _openai_error(response, 400, "VALIDATION_ERROR")
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert limit_of(user) == 10
    assert not CreditLedgerEntry.objects.exists()


def test_a_model_not_offered_is_404_and_free(api_client, keyed):
    user, auth = keyed

    response = api_client.post(CHAT, {**HELLO, "model": "gpt-4o"}, format="json", **auth)

    _openai_error(response, 404, "MODEL_NOT_FOUND")
    assert limit_of(user) == 10


def test_models_lists_what_is_offered(api_client, keyed, settings):
    _, auth = keyed
    settings.LLM_MODELS = ["small-1", "large-1"]

    body = api_client.get(MODELS, **auth).json()

    assert body["object"] == "list"
    assert [(m["id"], m["object"]) for m in body["data"]] == [
        ("small-1", "model"),
        ("large-1", "model"),
    ]
    assert (
        api_client.post(CHAT, {**HELLO, "model": "large-1"}, format="json", **auth).status_code
        == 200
    )


@pytest.mark.parametrize("stream", [False, True])
def test_exhausted_credits_are_429_with_our_envelope_inside(api_client, keyed, stream):
    user, auth = keyed
    CreditAccount.objects.filter(user=user).update(conversation_limit=0)

    response = api_client.post(CHAT, {**HELLO, "stream": stream}, format="json", **auth)

    error = _openai_error(response, 429, "CREDITS_EXHAUSTED")
    assert error["type"] == "insufficient_quota"
    assert error["limits"]["conversation_limit"] == 0
    assert int(response["Retry-After"]) > 0
    assert response["X-Should-Retry"] == "false"
    assert not logged().exists()


def test_a_session_token_is_refused_by_name(api_client, keyed):
    user, _ = keyed
    auth = bearer(login(api_client, user.email)["access_token"])

    for response in (
        api_client.post(CHAT, HELLO, format="json", **auth),
        api_client.get(MODELS, **auth),
    ):
        error = _openai_error(response, 401, "API_KEY_REQUIRED")
        assert error["type"] == "authentication_error"
    assert limit_of(user) == 10


def test_a_key_in_x_api_key_works_too(api_client, keyed):
    user, _ = keyed
    key = apikey_regenerate_primary(user=user, actor=user).clear

    assert api_client.post(CHAT, HELLO, format="json", HTTP_X_API_KEY=key).status_code == 200


@pytest.mark.parametrize(
    "auth",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer pe-not-a-real-key"},
        {"HTTP_AUTHORIZATION": "Basic cGU6eA=="},
    ],
    ids=["none", "wrong-key", "basic"],
)
def test_no_valid_key_is_401_in_openai_shape(api_client, db, auth):
    response = api_client.post(CHAT, HELLO, format="json", **auth)

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_a_key_does_not_open_session_routes_through_this_door(api_client, keyed):
    """The Bearer pe- rule is the same everywhere: it opens only what takes keys."""
    _, auth = keyed

    response = api_client.get("/api/v1/users/me/sessions", **auth)

    assert response.status_code == 401
    assert response.json()["error_code"] == "API_KEY_NOT_ACCEPTED"


def test_the_legacy_endpoint_keeps_its_envelope(api_client, keyed):
    user, auth = keyed
    CreditAccount.objects.filter(user=user).update(conversation_limit=0)

    body = api_client.post(COMPLETIONS, PROMPT, format="json", **auth).json()

    assert body["error_code"] == "CREDITS_EXHAUSTED"
    assert "error" not in body


# ----- behind an OpenAI-compatible upstream ------------------------------------------


def _hang_up(response) -> None:
    """What the server does when the client is gone: close the response (the test
    client's way, which keeps the test's database connection open)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def _refunds() -> int:
    return CreditLedgerEntry.objects.filter(kind=CreditLedgerEntry.Kind.REFUND).count()


def test_a_streamed_upstream_answer_is_relayed_and_its_counts_kept(api_client, keyed, upstream):
    user, auth = keyed

    events = _events(api_client.post(CHAT, {**HELLO, "stream": True}, format="json", **auth))

    pieces = [e["choices"][0]["delta"].get("content", "") for e in events[:-1] if e["choices"]]
    assert "".join(pieces) == "From upstream"
    assert events[-1] == "[DONE]"
    assert upstream.last_request["stream"] is True
    assert upstream.last_request["max_tokens"] == 4096  # LLM_MAX_TOKENS when none is asked
    assert limit_of(user) == 9
    log = logged().get()
    assert log.messages["response"] == {"role": "assistant", "content": "From upstream"}
    assert log.tokens_used == 5


def test_the_options_asked_for_are_forwarded(api_client, keyed, upstream):
    _, auth = keyed
    body = {**HELLO, "temperature": 0.2, "max_tokens": 50, "stop": ["\n"], "presence_penalty": 0.5}

    assert api_client.post(CHAT, body, format="json", **auth).status_code == 200
    forwarded = upstream.last_request
    assert (forwarded["temperature"], forwarded["max_tokens"], forwarded["stop"]) == (
        0.2,
        50,
        ["\n"],
    )
    assert "presence_penalty" not in forwarded


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("error", 502, "LLM_BACKEND_ERROR"),
        ("broken-before-first-token", 502, "LLM_BACKEND_ERROR"),
        ("error-event-stream", 502, "LLM_BACKEND_ERROR"),
        ("slow", 504, "LLM_BACKEND_TIMEOUT"),
    ],
)
def test_a_failure_before_the_first_token_is_refunded_and_answered_as_an_error(
    api_client, keyed, upstream, mode, status, code
):
    user, auth = keyed
    upstream.mode = mode

    response = api_client.post(CHAT, {**HELLO, "stream": True}, format="json", **auth)

    error = _openai_error(response, status, code)
    assert error["type"] == "api_error"
    assert limit_of(user) == 10
    assert _refunds() == 1
    assert not logged().exists()


def test_a_failure_mid_stream_keeps_the_credit_and_logs_what_was_sent(api_client, keyed, upstream):
    user, auth = keyed
    upstream.mode = "broken-mid-stream"

    events = _events(api_client.post(CHAT, {**HELLO, "stream": True}, format="json", **auth))

    assert "[DONE]" not in events
    assert events[-1]["error"]["code"] == "LLM_BACKEND_ERROR"
    assert events[-2]["choices"][0]["delta"] == {"content": "From "}
    assert limit_of(user) == 9
    assert _refunds() == 0
    assert logged().get().messages["response"] == {
        "role": "assistant",
        "content": "From ",
        "error": "LLM_BACKEND_ERROR",
    }


def _streamed(user):
    """The view's streamed response as the server gets it (no test client around it)."""
    key = apikey_regenerate_primary(user=user, actor=user).clear
    request = APIRequestFactory().post(
        CHAT, {**HELLO, "stream": True}, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    return ChatCompletionsView.as_view()(request)


def test_a_client_that_goes_away_mid_stream_is_logged_with_what_it_was_sent(keyed, upstream):
    user, _ = keyed
    response = _streamed(user)
    events = iter(response)

    next(events)  # the role chunk
    assert b"From " in next(events)
    _hang_up(response)

    assert limit_of(user) == 9
    assert logged().get().messages["response"] == {
        "role": "assistant",
        "content": "From ",
        "error": "CLIENT_DISCONNECTED",
    }


def test_a_client_gone_before_the_first_event_is_logged_once(keyed, upstream):
    user, _ = keyed

    _hang_up(_streamed(user))

    assert limit_of(user) == 9
    assert logged().get().messages["response"] == {
        "role": "assistant",
        "content": "",
        "error": "CLIENT_DISCONNECTED",
    }


def test_a_stream_without_counts_logs_no_invented_tokens(api_client, keyed, upstream):
    _, auth = keyed
    upstream.mode = "no-usage-stream"

    events = _events(api_client.post(CHAT, {**HELLO, "stream": True}, format="json", **auth))

    assert events[-1] == "[DONE]"
    assert logged().get().tokens_used == 0


# ----- the request path's defences, as on /v1/prompt/completions ------------------------


def test_the_per_ip_budget_applies_and_answers_in_openai_shape(api_client, keyed, settings):
    user, auth = keyed
    settings.FIREWALL_RATE_LIMIT = "3/h"  # an hour: no window ends mid-test

    responses = [api_client.post(CHAT, HELLO, format="json", **auth) for _ in range(4)]

    assert [response.status_code for response in responses] == [200, 200, 200, 429]
    error = _openai_error(responses[-1], 429, "RATE_LIMITED")
    assert error["type"] == "rate_limit_error"
    assert int(responses[-1]["Retry-After"]) > 0
    assert limit_of(user) == 7


def test_wrong_keys_block_the_address_even_for_a_right_key(api_client, keyed):
    user, auth = keyed
    for number in range(5):
        wrong = {"HTTP_AUTHORIZATION": f"Bearer pe-wrong-{number}"}
        assert api_client.post(CHAT, HELLO, format="json", **wrong).status_code == 401

    blocked = api_client.post(CHAT, HELLO, format="json", **auth)

    error = _openai_error(blocked, 403, "IP_BLOCKED")
    assert error["type"] == "permission_error"
    assert limit_of(user) == 10
