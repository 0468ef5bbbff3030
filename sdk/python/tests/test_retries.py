"""Retry timing and idempotency rules of the client's transport.

These are the only tests on a stand-in transport (httpx.MockTransport): they count
attempts and the waits between them, which a live service cannot be made to answer
on cue. Every other behaviour is tested against the service itself.
"""

import httpx
import pytest

from ai_marketplace.users import (
    ConnectionFailed,
    CreditsExhausted,
    RateLimited,
    ServiceUnavailable,
    UserClient,
)


def envelope(code: str, message: str = "refused") -> dict:
    return {
        "success": False,
        "message": message,
        "errors": [message],
        "error_code": code,
        "details": {"request_id": "req-1", "timestamp": "2030-01-01T00:00:00Z"},
    }


class Script:
    """Answers the requests in turn; records each and every wait the client takes."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.waits: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def client(self, **options) -> UserClient:
        client = UserClient(
            api_key="pe-test",
            base_url="http://sdk.test",
            transport=httpx.MockTransport(self),
            **options,
        )
        client._sleep = self.waits.append
        return client


def ok() -> httpx.Response:
    return httpx.Response(200, json={"credits": {"main": 1}, "limits": {}, "used_today": 0})


def busy(status: int = 503, retry_after: str | None = None, code: str = "SERVICE_UNAVAILABLE"):
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(status, json=envelope(code), headers=headers)


def test_503_is_retried_with_growing_jittered_waits_then_succeeds():
    script = Script(busy(), busy(), busy(), ok())
    balance = script.client(max_retries=3, backoff_factor=1.0).credits()

    assert balance.credits == {"main": 1}
    assert len(script.requests) == 4
    # Equal jitter: each wait is between half and all of 1, 2, 4 seconds.
    for wait, step in zip(script.waits, (1, 2, 4), strict=True):
        assert step / 2 <= wait <= step


def test_the_back_off_is_capped_by_max_backoff():
    script = Script(*[busy()] * 5, ok())
    script.client(max_retries=5, backoff_factor=1.0, max_backoff=3.0).credits()

    assert len(script.waits) == 5
    assert max(script.waits) <= 3.0
    assert script.waits[-1] >= 1.5


def test_retries_stop_at_max_retries_and_raise_the_last_answer():
    script = Script(busy(), busy(), busy())
    with pytest.raises(ServiceUnavailable) as failed:
        script.client(max_retries=2).credits()

    assert len(script.requests) == 3
    assert len(script.waits) == 2
    assert (failed.value.status, failed.value.code) == (503, "SERVICE_UNAVAILABLE")


def test_429_waits_the_retry_after_the_service_asks_for():
    script = Script(busy(429, "3", "RATE_LIMITED"), ok())
    script.client(max_retries=1, backoff_factor=0.5).credits()

    assert len(script.requests) == 2
    assert 3.0 <= script.waits[0] <= 3.5


def test_a_retry_after_beyond_max_retry_wait_is_raised_at_once():
    script = Script(busy(429, "120", "RATE_LIMITED"))
    with pytest.raises(RateLimited) as limited:
        script.client(max_retries=3, max_retry_wait=60).credits()

    assert script.waits == []
    assert limited.value.retry_after == 120


def test_a_post_is_retried_on_429_and_503_since_the_service_did_nothing():
    script = Script(busy(), busy(429, "1", "RATE_LIMITED"), httpx.Response(200, json={"id": 1}))
    answer = script.client(max_retries=2).complete([{"role": "user", "content": "hi"}])

    assert answer == {"id": 1}
    assert [request.method for request in script.requests] == ["POST"] * 3


def test_exhausted_credits_are_never_retried():
    script = Script(busy(429, "3600", "CREDITS_EXHAUSTED"))
    with pytest.raises(CreditsExhausted) as exhausted:
        script.client(max_retries=3, max_retry_wait=7200).complete([])

    assert len(script.requests) == 1
    assert script.waits == []
    assert exhausted.value.retry_after == 3600


def test_connection_errors_are_retried_for_idempotent_methods():
    script = Script(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), ok())
    script.client(max_retries=2).credits()

    assert [request.method for request in script.requests] == ["GET"] * 3
    assert len(script.waits) == 2


def test_a_post_is_never_resent_after_a_connection_error():
    script = Script(httpx.ReadTimeout("the answer never came"), httpx.Response(200, json={}))
    with pytest.raises(ConnectionFailed) as failed:
        script.client(max_retries=3).complete([{"role": "user", "content": "hi"}])

    assert len(script.requests) == 1
    assert script.waits == []
    assert isinstance(failed.value.__cause__, httpx.ReadTimeout)


def test_connection_errors_past_max_retries_raise_connection_failed():
    script = Script(*[httpx.ConnectError("refused")] * 3)
    with pytest.raises(ConnectionFailed):
        script.client(max_retries=2).credits()

    assert len(script.requests) == 3


def test_an_http_date_retry_after_is_read_as_seconds():
    script = Script(busy(503, "Wed, 21 Oct 2015 07:28:00 GMT"), ok())
    script.client(max_retries=1).credits()

    assert script.waits[0] < 2  # a moment already past: retry without a long wait
