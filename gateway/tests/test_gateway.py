import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope, bearer, login
from apikeys.services import apikey_regenerate_primary
from credits.models import CreditAccount, CreditLedgerEntry
from credits.services import account_for
from gateway import backends
from messagelog import services as messagelog_services
from messagelog.models import MessageLog
from messagelog.services import flush

COMPLETIONS = "/v1/prompt/completions"
BATCH = "/v1/batch/process"
PROMPT = {"level": "medium", "messages": [{"role": "user", "content": "Hello"}], "r_type": "bpe"}


def logged():
    """The conversation log as a reader sees it once the queue is flushed."""
    flush()
    return MessageLog.objects


@pytest.fixture
def keyed(db):
    user = UserFactory(username="caller", email="caller@example.com")
    account_for(user)
    key = apikey_regenerate_primary(user=user, actor=user).clear
    return user, {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _limit(user) -> int:
    return CreditAccount.objects.get(user=user).conversation_limit


def test_a_log_entry_the_database_refuses_costs_the_entry_not_the_answer(
    api_client, keyed, monkeypatch
):
    user, auth = keyed
    monkeypatch.setattr(messagelog_services, "message_queue", lambda: None)  # written directly
    table = MessageLog._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        response = api_client.post(COMPLETIONS, PROMPT, format="json", **auth)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")

    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "Echo: Hello"
    assert _limit(user) == 9
    assert not MessageLog.objects.exists()


def test_completion_answers_openai_shape_and_logs_the_conversation(api_client, keyed):
    user, auth = keyed

    response = api_client.post(
        COMPLETIONS, {**PROMPT, "model": "gpt-4o"}, format="json", REMOTE_ADDR="192.0.2.10", **auth
    )

    body = response.json()
    assert response.status_code == 200
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Echo: Hello"}
    assert (
        body["usage"]["total_tokens"]
        == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )
    assert _limit(user) == 9
    log = logged().get()
    assert (log.user_id, log.username, log.email, log.model) == (
        user.pk,
        "caller",
        "caller@example.com",
        "gpt-4o",
    )
    assert log.messages == {
        "request": PROMPT["messages"],
        "response": {"role": "assistant", "content": "Echo: Hello"},
    }
    assert (log.r_type, log.research_enabled, log.ip_address) == ("bpe", False, "192.0.2.10")
    assert log.tokens_used == body["usage"]["total_tokens"]


def test_jwt_is_accepted_too(api_client, keyed):
    user, _ = keyed
    auth = bearer(login(api_client, user.email)["access_token"])

    assert api_client.post(COMPLETIONS, PROMPT, format="json", **auth).status_code == 200


def test_anonymous_is_401(api_client, db):
    assert_envelope(api_client.post(COMPLETIONS, PROMPT, format="json"), 401)


@pytest.mark.parametrize(
    "body",
    [
        {"messages": []},
        {"messages": [{"role": "wizard", "content": "hi"}]},
        {"messages": "hello"},
        {"level": "medium"},
    ],
)
def test_bad_bodies_are_400_and_cost_nothing(api_client, keyed, body):
    user, auth = keyed

    assert_envelope(api_client.post(COMPLETIONS, body, format="json", **auth), 400)
    assert _limit(user) == 10


def test_batch_takes_n_credits(api_client, keyed):
    user, auth = keyed

    response = api_client.post(BATCH, {"prompts": [PROMPT, PROMPT, PROMPT]}, format="json", **auth)

    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert _limit(user) == 7
    assert logged().count() == 3


def test_batch_is_all_or_nothing(api_client, keyed):
    user, auth = keyed
    CreditAccount.objects.filter(user=user).update(conversation_limit=2)

    response = api_client.post(BATCH, {"prompts": [PROMPT, PROMPT, PROMPT]}, format="json", **auth)

    assert_envelope(response, 429, "CREDITS_EXHAUSTED")
    assert _limit(user) == 2
    assert not logged().exists()


# ----- the OpenAI-compatible backend against a real HTTP server on loopback ---------------


class _Upstream(BaseHTTPRequestHandler):
    mode = "ok"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        request = json.loads(self.rfile.read(length))
        if self.mode == "slow":
            time.sleep(1.5)
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        body = {
            "model": request["model"],
            "choices": [{"message": {"role": "assistant", "content": "From upstream"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2},
            "auth": self.headers.get("Authorization"),
        }
        if self.mode == "no-usage":
            body["usage"] = None
        if self.mode == "odd-message":
            body["choices"] = [{"message": "From upstream"}]
        if self.mode == "nul":
            body["choices"][0]["message"]["content"] = "From\x00upstream"
        if self.mode == "huge-usage":
            body["usage"] = {"prompt_tokens": 10**20, "completion_tokens": 10**20}
        payload = json.dumps(body).encode()
        if self.mode == "infinite-usage":
            payload = payload.replace(b'"prompt_tokens": 3', b'"prompt_tokens": 1e999')
        if self.mode == "lone-surrogate":
            payload = payload.replace(b"From upstream", b"From \\ud800 upstream")
        if self.mode == "deep":
            payload = b'{"choices": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        return


@pytest.fixture
def upstream(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.LLM_BACKEND_URL = f"http://127.0.0.1:{server.server_port}/v1"
    settings.LLM_API_KEY = "upstream-secret"
    settings.LLM_TIMEOUT_SECONDS = 0.5
    backends._backend.cache_clear()
    yield _Upstream
    _Upstream.mode = "ok"
    server.shutdown()
    backends._backend.cache_clear()


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
    assert _limit(user) == 10
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
    assert _limit(user) == 10


def test_an_unexpected_failure_still_refunds_the_credit(keyed, monkeypatch):
    user, auth = keyed

    class Broken:
        def complete(self, **kwargs):
            raise RuntimeError("a bug, not a backend answer")

    monkeypatch.setattr("gateway.services.get_backend", Broken)
    client = APIClient(raise_request_exception=False)

    assert_envelope(client.post(COMPLETIONS, PROMPT, format="json", **auth), 500)
    assert _limit(user) == 10
    assert not logged().exists()


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
    assert _limit(user) == 9
    entry = logged().get()
    assert entry.messages["response"]["content"] == "From\ufffdupstream"


@pytest.mark.parametrize("bad", ["\\u0000", "\\udfff"], ids=["nul", "lone-surrogate"])
@pytest.mark.parametrize("url", [COMPLETIONS, BATCH])
def test_a_prompt_no_text_can_hold_is_400_and_costs_nothing(api_client, keyed, url, bad):
    user, auth = keyed
    prompt = '{"messages": [{"role": "user", "content": "Hi %s there"}]}' % bad  # noqa: UP031
    body = prompt if url == COMPLETIONS else '{"prompts": [%s]}' % prompt  # noqa: UP031

    response = api_client.generic("POST", url, body, content_type="application/json", **auth)

    assert_envelope(response, 400, "INVALID_CHARACTERS")
    assert _limit(user) == 10
    assert not CreditLedgerEntry.objects.exists()


def test_batch_backend_failure_refunds_every_credit(api_client, keyed, upstream):
    user, auth = keyed
    upstream.mode = "error"

    response = api_client.post(BATCH, {"prompts": [PROMPT, PROMPT]}, format="json", **auth)

    assert_envelope(response, 502)
    assert _limit(user) == 10


def test_a_batch_that_fails_half_way_logs_nothing(api_client, keyed, monkeypatch):
    user, auth = keyed
    echo = backends.EchoBackend()

    class FailsSecond:
        calls = 0

        def complete(self, **kwargs):
            FailsSecond.calls += 1
            if FailsSecond.calls == 2:
                raise backends.BackendFailed()
            return echo.complete(**kwargs)

    monkeypatch.setattr("gateway.services.get_backend", FailsSecond)

    response = api_client.post(BATCH, {"prompts": [PROMPT, PROMPT, PROMPT]}, format="json", **auth)

    assert_envelope(response, 502)
    assert _limit(user) == 10
    assert not logged().exists()


# ----- proof under concurrency -----------------------------------------------------------


@pytest.mark.live
def test_concurrent_requests_never_overspend(live_service_unmetered, transactional_db):
    credits = 5
    with live_service_unmetered.client() as client:
        key = client.post(
            "/v1/users/register",
            json={
                "username": "racer",
                "name": "Race Caller",
                "email": "race@example.com",
                "password": "SecurePass123",
            },
        ).json()["api_key"]
    user = CreditAccount.objects.get(user__username="racer").user
    CreditAccount.objects.filter(user=user).update(conversation_limit=credits)
    headers = {"Authorization": f"Bearer {key}"}

    def call(_: int) -> int:
        with live_service_unmetered.client() as client:
            return client.post(COMPLETIONS, json=PROMPT, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(call, range(10 * credits)))

    assert statuses.count(200) == credits
    assert statuses.count(429) == 9 * credits
    assert _limit(user) == 0
    assert logged().filter(user_id=user.pk).count() == credits
    assert account_for(user).conversation_limit == 0
