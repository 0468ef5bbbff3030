"""/v1/prompt/completions and /v1/batch/process: the answer, its price, who may ask."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.tests.helpers import assert_envelope, bearer, login
from credits.models import CreditAccount, CreditLedgerEntry
from credits.services import account_for
from gateway.tests.helpers import BATCH, COMPLETIONS, PROMPT, limit_of, logged


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
    assert limit_of(user) == 9
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
    assert limit_of(user) == 10


def test_batch_takes_n_credits(api_client, keyed):
    user, auth = keyed

    response = api_client.post(BATCH, {"prompts": [PROMPT, PROMPT, PROMPT]}, format="json", **auth)

    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert limit_of(user) == 7
    assert logged().count() == 3


def test_batch_is_all_or_nothing(api_client, keyed):
    user, auth = keyed
    CreditAccount.objects.filter(user=user).update(conversation_limit=2)

    response = api_client.post(BATCH, {"prompts": [PROMPT, PROMPT, PROMPT]}, format="json", **auth)

    assert_envelope(response, 429, "CREDITS_EXHAUSTED")
    assert limit_of(user) == 2
    assert not logged().exists()


@pytest.mark.parametrize("bad", ["\\u0000", "\\udfff"], ids=["nul", "lone-surrogate"])
@pytest.mark.parametrize("url", [COMPLETIONS, BATCH])
def test_a_prompt_no_text_can_hold_is_400_and_costs_nothing(api_client, keyed, url, bad):
    user, auth = keyed
    prompt = '{"messages": [{"role": "user", "content": "Hi %s there"}]}' % bad  # noqa: UP031
    body = prompt if url == COMPLETIONS else '{"prompts": [%s]}' % prompt  # noqa: UP031

    response = api_client.generic("POST", url, body, content_type="application/json", **auth)

    assert_envelope(response, 400, "INVALID_CHARACTERS")
    assert limit_of(user) == 10
    assert not CreditLedgerEntry.objects.exists()


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
    assert limit_of(user) == 0
    assert logged().filter(user_id=user.pk).count() == credits
    assert account_for(user).conversation_limit == 0


# ----- one credit buys what /v1/chat/completions sells, on every metered route ------------


def test_every_metered_route_caps_the_answer_at_llm_max_tokens(api_client, keyed, upstream):
    _, auth = keyed
    forwarded = []

    for path, body in ((COMPLETIONS, PROMPT), (BATCH, {"prompts": [PROMPT]})):
        assert api_client.post(path, body, format="json", **auth).status_code == 200
        forwarded.append(upstream.last_request.get("max_tokens"))

    assert forwarded == [4096, 4096]


@pytest.mark.parametrize("path", [COMPLETIONS, BATCH])
def test_a_model_outside_llm_models_is_refused_and_free(
    api_client, keyed, upstream, settings, path
):
    user, auth = keyed
    settings.LLM_MODELS = ["echo-1"]
    prompt = {**PROMPT, "model": "gpt-4-32k"}
    body = prompt if path == COMPLETIONS else {"prompts": [PROMPT, prompt]}
    upstream.last_request = {}

    response = api_client.post(path, body, format="json", **auth)

    assert_envelope(response, 400)
    assert any("model" in error for error in response.json()["errors"])
    assert upstream.last_request == {}
    assert limit_of(user) == 10
