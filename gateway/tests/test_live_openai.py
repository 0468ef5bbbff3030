"""OpenAI's own Python client against the service under gunicorn: any OpenAI client
works with a `pe-` key, metered and logged like /v1/prompt/completions."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from credits.models import CreditAccount, CreditLedgerEntry
from gateway.tests.helpers import limit_of, logged

pytestmark = pytest.mark.live

MESSAGES = [{"role": "user", "content": "Hello there"}]


def _register(service, username: str):
    with service.client() as client:
        registered = client.post(
            "/v1/users/register",
            json={
                "username": username,
                "name": "OpenAI Caller",
                "email": f"{username}@example.com",
                "password": "SecurePass123",
            },
        ).json()
    user = CreditAccount.objects.get(user__username=username).user
    return user, registered["api_key"]


def _client(service, key: str) -> openai.OpenAI:
    # No retries: every refusal is seen as the service sent it.
    return openai.OpenAI(api_key=key, base_url=f"{service.url}/v1", max_retries=0)


def _refunds(user) -> int:
    return CreditLedgerEntry.objects.filter(
        account__user=user, kind=CreditLedgerEntry.Kind.REFUND
    ).count()


def test_plain_streamed_models_and_the_log(live_service, transactional_db):
    user, key = _register(live_service, "oa-plain")
    client = _client(live_service, key)

    models = [model.id for model in client.models.list()]
    plain = client.chat.completions.create(model="echo-1", messages=MESSAGES)
    pieces = [
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(model="echo-1", messages=MESSAGES, stream=True)
        if chunk.choices
    ]

    assert models == ["echo-1"]
    assert plain.choices[0].message.content == "Echo: Hello there"
    assert plain.usage.total_tokens == 5
    assert "".join(pieces) == "Echo: Hello there"
    assert len([piece for piece in pieces if piece]) == 3
    assert limit_of(user) == 8
    entries = logged().filter(user_id=user.pk).order_by("timestamp")
    assert [entry.messages["response"] for entry in entries] == [
        {"role": "assistant", "content": "Echo: Hello there"}
    ] * 2


def test_exhausted_credits_raise_rate_limit_error_carrying_our_429(live_service, transactional_db):
    user, key = _register(live_service, "oa-broke")
    CreditAccount.objects.filter(user=user).update(conversation_limit=0)
    client = _client(live_service, key)

    for stream in (False, True):
        with pytest.raises(openai.RateLimitError) as raised:
            client.chat.completions.create(model="echo-1", messages=MESSAGES, stream=stream)
        error = raised.value
        assert error.status_code == 429
        assert error.code == "CREDITS_EXHAUSTED"
        assert error.type == "insufficient_quota"
        assert error.body["error_code"] == "CREDITS_EXHAUSTED"
        assert error.body["success"] is False
        assert error.body["limits"]["conversation_limit"] == 0
        assert int(error.response.headers["Retry-After"]) > 0
    assert limit_of(user) == 0
    assert not logged().filter(user_id=user.pk).exists()


def test_a_bad_key_raises_authentication_error(live_service, transactional_db):
    client = _client(live_service, "pe-" + "x" * 40)

    with pytest.raises(openai.AuthenticationError) as raised:
        client.chat.completions.create(model="echo-1", messages=MESSAGES)

    assert raised.value.code == "INVALID_API_KEY"
    assert raised.value.type == "authentication_error"


def test_a_session_token_raises_authentication_error(live_service, transactional_db):
    _register(live_service, "oa-session")
    with live_service.client() as http:
        token = http.post(
            "/api/v1/auth/login",
            json={"email": "oa-session@example.com", "password": "SecurePass123"},
        ).json()["access_token"]

    with pytest.raises(openai.AuthenticationError) as raised:
        _client(live_service, token).models.list()

    assert raised.value.code == "API_KEY_REQUIRED"


def test_concurrent_streams_spend_exactly_the_credits_there_are(
    live_service_unmetered, transactional_db
):
    user, key = _register(live_service_unmetered, "oa-racer")
    CreditAccount.objects.filter(user=user).update(conversation_limit=3)
    client = _client(live_service_unmetered, key)

    def call(_: int) -> str:
        try:
            stream = client.chat.completions.create(model="echo-1", messages=MESSAGES, stream=True)
            pieces = [chunk.choices[0].delta.content for chunk in stream if chunk.choices]
            return "".join(piece or "" for piece in pieces)
        except openai.RateLimitError:
            return "429"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(call, range(12)))

    assert sorted(answers) == ["429"] * 9 + ["Echo: Hello there"] * 3
    assert limit_of(user) == 0
    assert logged().filter(user_id=user.pk).count() == 3


# ----- behind an upstream that fails ---------------------------------------------------


@pytest.fixture
def behind_upstream(start_live_service, upstream, settings):
    """A gunicorn of its own whose backend is the test's upstream."""
    extra = {"LLM_BACKEND_URL": settings.LLM_BACKEND_URL, "LLM_TIMEOUT_SECONDS": "5"}
    with start_live_service(extra) as service:
        yield service, upstream


def test_an_upstream_failing_before_the_first_token_is_refunded(behind_upstream, transactional_db):
    service, upstream = behind_upstream
    user, key = _register(service, "oa-refund")
    client = _client(service, key)

    for mode in ("error", "broken-before-first-token"):
        upstream.mode = mode
        with pytest.raises(openai.InternalServerError) as raised:
            client.chat.completions.create(model="echo-1", messages=MESSAGES, stream=True)
        assert raised.value.status_code == 502
        assert raised.value.code == "LLM_BACKEND_ERROR"

    assert limit_of(user) == 10
    assert _refunds(user) == 2
    assert not logged().filter(user_id=user.pk).exists()


def test_an_upstream_failing_mid_stream_keeps_the_credit_and_logs_the_part_sent(
    behind_upstream, transactional_db
):
    service, upstream = behind_upstream
    user, key = _register(service, "oa-broken")
    upstream.mode = "broken-mid-stream"
    received = []

    with pytest.raises(openai.APIError) as raised:
        for chunk in _client(service, key).chat.completions.create(
            model="echo-1", messages=MESSAGES, stream=True
        ):
            received.append(chunk.choices[0].delta.content or "")

    assert raised.value.code == "LLM_BACKEND_ERROR"
    assert "".join(received) == "From "
    assert limit_of(user) == 9
    assert _refunds(user) == 0
    assert logged().get(user_id=user.pk).messages["response"] == {
        "role": "assistant",
        "content": "From ",
        "error": "LLM_BACKEND_ERROR",
    }


def test_a_client_leaving_mid_stream_is_logged_with_what_it_was_sent(
    behind_upstream, transactional_db
):
    service, upstream = behind_upstream
    user, key = _register(service, "oa-leaver")
    upstream.mode = "drip-stream"
    body = {"model": "echo-1", "messages": MESSAGES, "stream": True}

    with (
        httpx.Client(base_url=service.url, timeout=10) as http,
        http.stream(
            "POST", "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
        ) as response,
    ):
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")
    # The service notices at its next write; the upstream drips for five seconds.
    deadline = time.monotonic() + 15
    while not logged().filter(user_id=user.pk).exists() and time.monotonic() < deadline:
        time.sleep(0.2)

    response_message = logged().get(user_id=user.pk).messages["response"]
    assert response_message["error"] == "CLIENT_DISCONNECTED"
    assert response_message["content"].startswith("w0 ")
    assert "From upstream" not in response_message["content"]
    assert limit_of(user) == 9
    with service.client() as http:  # the worker is still serving
        assert http.get("/api/v1/health/live").status_code == 200
    assert "Traceback" not in service.log_path.read_text()
