"""Attacks on /v1/chat/completions and /v1/models that the routes hold: header
confusion, keys that must not open them, and content that must not break the events."""

import json

import pytest

from accounts.tests.helpers import bearer, login
from apikeys.models import APIKey
from apikeys.services import apikey_create, apikey_revoke
from gateway.tests.helpers import limit_of, logged

CHAT = "/v1/chat/completions"
MODELS = "/v1/models"
HELLO = {"model": "echo-1", "messages": [{"role": "user", "content": "Hello there"}]}


def _key(auth: dict) -> str:
    return auth["HTTP_AUTHORIZATION"].removeprefix("Bearer ")


def test_x_api_key_decides_when_both_headers_are_sent(api_client, keyed):
    """One credential per request: a wrong X-API-Key is not rescued by a right Bearer,
    and a right X-API-Key is not confused by a session token beside it."""
    user, auth = keyed
    session = bearer(login(api_client, user.email)["access_token"])

    wrong_header = api_client.post(
        CHAT, HELLO, format="json", HTTP_X_API_KEY="pe-" + "x" * 32, **auth
    )
    key_beside_token = api_client.post(
        CHAT, HELLO, format="json", HTTP_X_API_KEY=_key(auth), **session
    )

    assert wrong_header.status_code == 401
    assert wrong_header.json()["error"]["code"] == "INVALID_API_KEY"
    assert key_beside_token.status_code == 200
    assert limit_of(user) == 9


@pytest.mark.parametrize(
    "authorization",
    [
        "bearer {key}",
        "Bearer {key},Bearer {key}",  # a repeated header, as a server joins it
        "Bearer {key} extra",
        "Token {key}",
    ],
    ids=["lower-case-scheme", "repeated", "trailing-words", "other-scheme"],
)
def test_a_key_in_a_malformed_authorization_opens_nothing(api_client, keyed, authorization):
    user, auth = keyed

    response = api_client.post(
        CHAT, HELLO, format="json", HTTP_AUTHORIZATION=authorization.format(key=_key(auth))
    )

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    assert limit_of(user) == 10


def test_revoked_expired_and_unscoped_keys_open_neither_route(api_client, keyed):
    user, _ = keyed
    revoked = apikey_create(user=user, name="revoked", actor=user)
    apikey_revoke(key=revoked.key, actor=user)
    expired = apikey_create(user=user, name="expired", actor=user).clear
    APIKey.objects.filter(name="expired").update(expires_at="2020-01-01T00:00:00Z")
    unscoped = apikey_create(user=user, name="self", scopes=["read:self"], actor=user).clear

    statuses = {
        name: (
            api_client.post(CHAT, HELLO, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"),
            api_client.get(MODELS, HTTP_X_API_KEY=key),
        )
        for name, key in (("revoked", revoked.clear), ("expired", expired), ("unscoped", unscoped))
    }

    assert {name: [r.status_code for r in pair] for name, pair in statuses.items()} == {
        "revoked": [401, 401],
        "expired": [401, 401],
        "unscoped": [403, 403],
    }
    assert statuses["unscoped"][0].json()["error"]["type"] == "permission_error"
    assert limit_of(user) == 10


def test_line_breaks_in_the_answer_stay_inside_their_event(api_client, keyed):
    """Each piece is JSON-encoded on one `data:` line: a CR, LF or `data: [DONE]` in the
    text cannot end an event early or forge one."""
    _, auth = keyed
    text = "a\n\ndata: [DONE]\n\nevent: error\r\rdata: {}\r\n\u2028z"
    body = {**HELLO, "stream": True, "messages": [{"role": "user", "content": text}]}

    response = api_client.post(CHAT, body, format="json", **auth)
    raw = b"".join(response.streaming_content).decode()

    blocks = raw.split("\n\n")
    assert blocks[-1] == ""
    assert all(block.startswith("data: ") and "\n" not in block for block in blocks[:-1])
    assert "\r" not in raw
    events = [block.removeprefix("data: ") for block in blocks[:-1]]
    assert events.count("[DONE]") == 1 and events[-1] == "[DONE]"
    pieces = [json.loads(event)["choices"][0]["delta"].get("content", "") for event in events[:-1]]
    assert "".join(pieces) == f"Echo: {text}"
    assert logged().get().messages["response"]["content"] == f"Echo: {text}"


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("broken-mid-stream", "LLM_BACKEND_ERROR"),
        ("error-event-mid-stream", "LLM_BACKEND_ERROR"),
        ("stall-mid-stream", "LLM_BACKEND_TIMEOUT"),
    ],
)
def test_an_error_mid_stream_says_the_credit_is_spent(api_client, keyed, upstream, mode, code):
    """After the first token the credit is not given back: the error event must not
    repeat the before-the-first-token message that says no credit was used."""
    user, auth = keyed
    upstream.mode = mode

    response = api_client.post(CHAT, {**HELLO, "stream": True}, format="json", **auth)
    raw = b"".join(response.streaming_content).decode()
    error = json.loads(raw.split("\n\n")[-2].removeprefix("data: "))["error"]

    assert error["code"] == code
    assert "no credit was used" not in error["message"]
    assert "spent" in error["message"]
    assert limit_of(user) == 9
