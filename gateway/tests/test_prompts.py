"""Metered request bodies: every bad field is named in a 400 that costs nothing."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope
from apikeys.services import apikey_regenerate_primary
from credits.models import CreditAccount
from credits.services import account_for
from gateway import prompts
from messagelog.models import MessageLog
from messagelog.services import flush

COMPLETIONS = "/v1/prompt/completions"


BATCH = "/v1/batch/process"


HELLO = [{"role": "user", "content": "Hello"}]


@pytest.fixture
def auth(db):
    user = UserFactory()
    account_for(user)
    return {
        "HTTP_AUTHORIZATION": f"Bearer {apikey_regenerate_primary(user=user, actor=user).clear}"
    }


def _limit() -> int:
    return CreditAccount.objects.get().conversation_limit


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ([HELLO], "body: must be a JSON object."),
        ({"messages": HELLO, "level": "x" * 33}, "level: at most 32 characters."),
        ({"messages": HELLO, "level": "  "}, "level: may not be blank."),
        ({"messages": HELLO, "r_type": 7}, "r_type: must be a string."),
        ({"messages": HELLO, "model": "m" * 101}, "model: at most 100 characters."),
        ({"messages": HELLO, "research_enabled": "yes"}, "research_enabled: must be true or"),
        ({"messages": [{"role": "user"}]}, f"messages: {prompts.MESSAGES_RULE}."),
        ({"messages": [{"role": "user", "content": "x" * 100_001}]}, "messages: "),
        ({"messages": HELLO * 101}, "messages: "),
    ],
)
def test_each_bad_field_is_named_and_nothing_is_taken(auth, body, error):
    response = APIClient().post(COMPLETIONS, body, format="json", **auth)

    assert_envelope(response, 400, "VALIDATION_ERROR")
    assert any(line.startswith(error) for line in response.json()["errors"]), response.json()
    assert _limit() == 10


def test_every_problem_is_reported_at_once(auth):
    body = {"messages": "hi", "level": 3, "research_enabled": None}

    errors = APIClient().post(COMPLETIONS, body, format="json", **auth).json()["errors"]

    assert [line.split(":", 1)[0] for line in errors] == ["messages", "level", "research_enabled"]


def test_defaults_and_trimming_reach_the_log(auth):
    body = {"messages": HELLO, "level": " high ", "model": "", "r_type": " bpe "}

    response = APIClient().post(COMPLETIONS, body, format="json", **auth)

    assert response.status_code == 200
    assert response.json()["model"] == "echo-1"
    flush(actor=None)
    log = MessageLog.objects.get()
    assert (log.model, log.r_type, log.research_enabled) == ("echo-1", "bpe", False)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "prompts: a non-empty list"),
        ({"prompts": []}, "prompts: a non-empty list"),
        ({"prompts": [{"messages": HELLO}] * 21}, "prompts: at most 20 prompts"),
        ({"prompts": [{"messages": HELLO}, {"messages": []}]}, "prompts[1].messages: "),
        ({"prompts": [{"messages": HELLO}, "hi"]}, "prompts[1]: must be a JSON object."),
    ],
)
def test_a_bad_batch_is_refused_whole(auth, body, error):
    response = APIClient().post(BATCH, body, format="json", **auth)

    assert_envelope(response, 400, "VALIDATION_ERROR")
    assert any(line.startswith(error) for line in response.json()["errors"]), response.json()
    assert _limit() == 10
