"""The log's running totals per UTC day and model (migration 0004) stay equal to a
count of the log through inserts, late entries, updates, the purge and TRUNCATE,
and the windows read from them equal the windows counted (PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum

from messagelog.models import MessageLog
from messagelog.selectors import conversations_per_utc_day, conversations_since
from messagelog.tests.factories import MessageLogFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"),
]

NOW = datetime(2024, 5, 15, 9, 30, tzinfo=UTC)


def _windows() -> dict:
    return {
        "today": NOW.replace(hour=0, minute=0),
        "last_7_days": NOW - timedelta(days=7),
        "last_30_days": NOW - timedelta(days=30),
        "from_an_odd_minute": NOW - timedelta(days=2, minutes=17),
    }


def _counted(start) -> dict:
    rows = MessageLog.objects.filter(timestamp__gte=start)
    by_model = {
        row["model"]: (row["n"], row["t"])
        for row in rows.values("model").annotate(n=Count("pk"), t=Sum("tokens_used")).order_by()
    }
    return {
        "conversations": sum(n for n, _ in by_model.values()),
        "tokens_used": sum(t for _, t in by_model.values()),
        "by_model": by_model,
    }


def _assert_windows_match() -> None:
    windows = _windows()
    assert conversations_since(windows) == {
        name: _counted(start) for name, start in windows.items()
    }


def _log(at, model="echo-1", tokens=4):
    return MessageLogFactory(timestamp=at, model=model, tokens_used=tokens)


def test_windows_from_the_tallies_equal_the_log_counted():
    # Either side of each window's start and of midnight, and several models.
    for start in _windows().values():
        for offset in (-1, 0, 1, 3600):
            _log(start + timedelta(seconds=offset), model="echo-1", tokens=3)
            _log(start + timedelta(seconds=offset), model="echo-2", tokens=5)
    _log(NOW - timedelta(days=12), model="big", tokens=1000)
    _log(NOW - timedelta(days=40))
    _assert_windows_match()

    # A late entry (the relay writes it after the fact), an edit, and the purge.
    late = _log(NOW - timedelta(days=6, hours=3), model="late", tokens=7)
    MessageLog.objects.filter(pk=late.pk).update(tokens_used=70, model="later")
    MessageLog.objects.filter(model="echo-2").update(timestamp=NOW - timedelta(days=1))
    _assert_windows_match()
    MessageLog.objects.filter(timestamp__lt=NOW - timedelta(days=10)).delete()
    _assert_windows_match()


def test_days_from_the_tallies_equal_the_log_counted():
    days = [(NOW - timedelta(days=back)).date() for back in range(5, -1, -1)]
    for back in range(6):
        for _ in range(back + 1):
            _log(NOW - timedelta(days=back, minutes=back))
    per_day = conversations_per_utc_day(days)
    for day in days:
        start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        that_day = Q(timestamp__gte=start, timestamp__lt=start + timedelta(days=1))
        counted = MessageLog.objects.aggregate(
            n=Count("pk", filter=that_day), t=Sum("tokens_used", filter=that_day)
        )
        assert per_day.get(day, (0, 0)) == (counted["n"], counted["t"] or 0)


def test_truncating_the_log_empties_the_tallies():
    _log(NOW)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE messagelog_messagelog")
        cursor.execute("SELECT count(*) FROM messagelog_daily_tally")
        assert cursor.fetchone()[0] == 0
