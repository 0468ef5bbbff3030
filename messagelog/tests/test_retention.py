"""MESSAGE_RETENTION_DAYS: expired conversations deleted in bounded batches, audited."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messagelog import selectors, services
from messagelog.models import MessageLog
from messagelog.tests.factories import MessageLogFactory
from security.models import ActorKind, AuditAction, AuditLog
from security.tests.helpers import audit_row

DAY = timedelta(days=1)


@pytest.fixture
def log(db):
    """Ten conversations past a 30-day window (31 to 40 days old), three inside it."""
    now = timezone.now()
    expired = [MessageLogFactory(timestamp=now - (31 + n) * DAY) for n in range(10)]
    kept = [
        MessageLogFactory(timestamp=now - 29 * DAY),
        MessageLogFactory(timestamp=now - DAY),
        MessageLogFactory(timestamp=now),
    ]
    return expired, kept


@pytest.fixture
def retention(settings):
    settings.MESSAGE_RETENTION_DAYS = 30
    settings.MESSAGE_PURGE_BATCH_SIZE = 3
    return settings


def _deletes(queries) -> list[str]:
    return [query["sql"] for query in queries if query["sql"].lstrip().upper().startswith("DELETE")]


def test_expired_conversations_go_and_newer_ones_stay(log, retention):
    _, kept = log

    purge = services.purge_expired(actor=None)

    assert (purge.deleted, purge.finished) == (10, True)
    assert set(MessageLog.objects.values_list("pk", flat=True)) == {row.pk for row in kept}


def test_each_statement_deletes_at_most_a_batch(log, retention):
    progress = []
    with CaptureQueriesContext(connection) as queries:
        purge = services.purge_expired(
            actor=None, on_batch=lambda deleted, batches: progress.append(deleted)
        )

    deletes = _deletes(queries.captured_queries)
    assert len(deletes) == 4 == purge.batches  # 3 + 3 + 3 + 1: the short batch ends the run
    assert all("LIMIT 3" in sql for sql in deletes)
    assert progress == [3, 6, 9, 10]


def test_a_run_stops_when_its_time_budget_is_spent(log, retention):
    purge = services.purge_expired(actor=None, time_budget_seconds=1e-9)

    assert (purge.batches, purge.deleted, purge.finished) == (1, 3, False)
    assert MessageLog.objects.count() == 13 - 3
    assert services.purge_expired(actor=None).deleted == 7  # the next run goes on


def test_zero_keeps_everything(log, settings):
    settings.MESSAGE_RETENTION_DAYS = 0
    with CaptureQueriesContext(connection) as queries:
        purge = services.purge_expired(actor=None)

    assert (purge.deleted, purge.batches) == (0, 0)
    assert _deletes(queries.captured_queries) == []
    assert MessageLog.objects.count() == 13
    assert not AuditLog.objects.filter(action=AuditAction.MESSAGE_LOG_PURGED).exists()


def test_each_run_is_audited_and_the_last_one_is_known(log, retention):
    assert selectors.last_purge() is None

    purge = services.purge_expired(actor=None)

    row = audit_row(action=AuditAction.MESSAGE_LOG_PURGED)
    assert row.actor_kind == ActorKind.SYSTEM and row.actor_id is None
    assert row.changes == {
        "retention_days": 30,
        "cutoff": purge.cutoff.isoformat(),
        "deleted": 10,
        "batches": 4,
        "finished": True,
    }
    last = selectors.last_purge()
    assert (last["at"], last["deleted"], last["finished"]) == (row.occurred_at, 10, True)
    assert last["cutoff"] == purge.cutoff


def test_the_command_reports_each_batch(log, retention):
    out = StringIO()

    call_command("purge_message_log", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[:4] == [
        "Batch 1: 3 deleted so far.",
        "Batch 2: 6 deleted so far.",
        "Batch 3: 9 deleted so far.",
        "Batch 4: 10 deleted so far.",
    ]
    assert lines[4].startswith("Done: deleted 10 conversation(s) logged before ")
    assert MessageLog.objects.count() == 3


def test_the_command_says_when_retention_is_off(log, settings):
    settings.MESSAGE_RETENTION_DAYS = 0
    out = StringIO()

    call_command("purge_message_log", stdout=out)

    assert "kept forever" in out.getvalue()
    assert MessageLog.objects.count() == 13


def test_beat_purges_hourly(settings, log, retention):
    from messagelog.tasks import purge_message_log

    entry = settings.CELERY_BEAT_SCHEDULE["purge-message-log"]
    assert entry["task"] == "messagelog.tasks.purge_message_log"
    assert entry["schedule"].minute == {17} and len(entry["schedule"].hour) == 24

    assert purge_message_log.delay().get() == 10
    assert MessageLog.objects.count() == 3


def test_the_time_index_is_brin_on_postgresql_and_absent_elsewhere(db):
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, MessageLog._meta.db_table)
    brin = indexes.get("messagelog_time_brin")
    if connection.vendor == "postgresql":
        assert brin is not None and brin["type"] == "brin"
        assert brin["columns"] == ["timestamp"]
    else:
        assert brin is None
    assert indexes["messagelog_user_time_idx"]["columns"] == ["user_id", "timestamp"]
