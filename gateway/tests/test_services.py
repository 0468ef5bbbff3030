"""The metered path: a failure anywhere refunds, and logs nothing it did not serve."""

from django.db import connection
from rest_framework.test import APIClient

from accounts.tests.helpers import assert_envelope
from gateway import backends
from gateway.tests.helpers import BATCH, COMPLETIONS, PROMPT, limit_of, logged
from messagelog import services as messagelog_services
from messagelog.models import MessageLog


def test_a_call_whose_log_entry_the_database_refuses_is_refused_and_costs_nothing(
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

    body = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
    assert "choices" not in body
    assert limit_of(user) == 10
    assert not MessageLog.objects.exists()


def test_an_unexpected_failure_still_refunds_the_credit(keyed, monkeypatch):
    user, auth = keyed

    class Broken:
        def complete(self, **kwargs):
            raise RuntimeError("a bug, not a backend answer")

    monkeypatch.setattr("gateway.services.get_backend", Broken)
    client = APIClient(raise_request_exception=False)

    assert_envelope(client.post(COMPLETIONS, PROMPT, format="json", **auth), 500)
    assert limit_of(user) == 10
    assert not logged().exists()


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
    assert limit_of(user) == 10
    assert not logged().exists()
