"""The running totals of the users (migration 0014) stay equal to a count of the
table through every kind of write, and the statistics read from them equal the
statistics counted (PostgreSQL: the triggers are its)."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate

from accounts import selectors
from accounts.models import User
from accounts.selectors import (
    signup_tally_per_day,
    signups_since,
    user_statistics_now,
    user_tally_groups,
)
from accounts.services.users import user_change_status
from accounts.tests.factories import UserFactory
from accounts.tests.world import builtin
from tenants.models import Tenant

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"),
]

FIELDS = ("status", "role_id", "tenant_id", "subscription_plan", "is_verified")


def _counted_groups() -> dict:
    rows = User.objects.order_by().values(*FIELDS).annotate(count=Count("pk"))
    return {tuple(row[field] for field in FIELDS): row["count"] for row in rows}


def _tallied_groups(tenant_id=None) -> dict:
    return {
        tuple(row[field] for field in FIELDS): row["count"]
        for row in user_tally_groups(tenant_id=tenant_id)
    }


def _counted_signups() -> list[dict]:
    rows = (
        User.objects.order_by()
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by("day")
    )
    return [{"day": row["day"], "count": row["count"]} for row in rows]


def _assert_tallies_match() -> None:
    assert _tallied_groups() == _counted_groups()
    assert signup_tally_per_day() == _counted_signups()


def test_tallies_follow_inserts_updates_deletes_and_bulk_writes():
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    admin = UserFactory(role=builtin("admin"), is_staff=True, is_superuser=True)
    users = [UserFactory(tenant=tenant if n % 2 else None) for n in range(6)]
    _assert_tallies_match()

    user_change_status(actor=admin, user=users[0], status=User.Status.SUSPENDED)
    User.objects.filter(pk=users[1].pk).update(is_verified=False, role=builtin("guest"))
    User.objects.filter(pk__in=[u.pk for u in users[2:4]]).update(tenant=tenant)
    User.objects.filter(pk=users[4].pk).update(
        created_at=datetime(2020, 2, 29, 23, 59, tzinfo=UTC), subscription_plan_id="premium"
    )
    _assert_tallies_match()

    User.objects.filter(pk=users[5].pk).update(last_login=datetime.now(UTC))  # not counted
    users[3].delete()
    User.objects.filter(pk__in=[users[0].pk, users[1].pk]).delete()
    _assert_tallies_match()

    User.objects.bulk_create(
        [User(username=f"bulk{n}", email=f"bulk{n}@example.com", tenant=tenant) for n in range(3)]
    )
    _assert_tallies_match()
    assert sum(_tallied_groups(tenant_id=tenant.pk).values()) == tenant.users.count()


def test_a_day_whose_users_are_gone_leaves_the_signups():
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(created_at=datetime(2021, 1, 1, 12, tzinfo=UTC))
    assert {"day": date(2021, 1, 1), "count": 1} in signup_tally_per_day()
    User.objects.filter(pk=user.pk).delete()
    assert date(2021, 1, 1) not in [row["day"] for row in signup_tally_per_day()]


def test_statistics_from_the_tallies_equal_the_statistics_counted():
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    admin = UserFactory(role=builtin("admin"), is_staff=True, is_superuser=True)
    tenant_admin = UserFactory(role=builtin("admin"), tenant=tenant)
    for n in range(5):
        user = UserFactory(tenant=tenant if n % 2 else None, is_verified=bool(n % 3))
        User.objects.filter(pk=user.pk).update(created_at=datetime(2024, 3, n + 1, tzinfo=UTC))
    now = datetime(2024, 6, 1, tzinfo=UTC)
    windows = ({}, {"since": date(2024, 3, 2), "until": date(2024, 3, 4)})
    for actor in (admin, tenant_admin):
        for window in windows:
            with mock.patch("django.utils.timezone.now", return_value=now):
                tallied = user_statistics_now(actor=actor, **window)
                with mock.patch.object(selectors, "tallies_kept", return_value=False):
                    counted = user_statistics_now(actor=actor, **window)
            assert tallied == counted
            assert tallied["total"] > 0


def test_truncating_the_users_empties_the_tallies():
    UserFactory()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as a flush between tests runs
        cursor.execute("TRUNCATE accounts_user CASCADE")
    assert user_tally_groups() == []
    assert signup_tally_per_day() == []


def test_signup_windows_from_the_tallies_equal_the_users_counted():
    now = datetime(2024, 5, 15, 9, 30, tzinfo=UTC)
    starts = {
        "today": datetime(2024, 5, 15, tzinfo=UTC),
        "last_7_days": now - timedelta(days=7),
        "last_30_days": now - timedelta(days=30),
    }
    for start in starts.values():
        for offset in (-1, 0, 1, 7200):
            user = UserFactory()
            created = start + timedelta(seconds=offset)
            User.objects.filter(pk=user.pk).update(created_at=created)
    assert signups_since(starts) == {
        name: User.objects.filter(created_at__gte=start).count() for name, start in starts.items()
    }
