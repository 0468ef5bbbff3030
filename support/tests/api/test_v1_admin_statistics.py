"""GET /v1/admin-panel/statistics: the figures of a small known world, and a query
count that does not grow with the number of users."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

from accounts.models import LoginSession, User
from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import LoginSessionFactory, UserFactory
from accounts.tests.helpers import assert_envelope
from accounts.tests.world import builtin
from core.tests.markers import production_services_only
from credits.services import account_for
from messagelog.tests.factories import MessageLogFactory
from security.models import IPBlock, SecurityEvent, Severity
from support.selectors import STATISTICS_CACHE_KEY, STATISTICS_CACHE_SECONDS
from tenants.models import Tenant

URL = "/v1/admin-panel/statistics"
# Noon, so that "today" (since midnight) and "the last hours" are the same thing.
NOON = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)
# The eleven figure queries, and a few for the admin's own authentication.
MAX_QUERIES = 15


def _ago(**delta):
    return NOON - timedelta(**delta)


def _auth(admin) -> dict:
    pair = session_start(user=admin, client=ClientInfo("127.0.0.1", "tests"), mfa_verified=True)
    return {"HTTP_AUTHORIZATION": f"Bearer {pair.access}"}


def _user(created_at, **fields) -> User:
    user = UserFactory(**fields)
    User.objects.filter(pk=user.pk).update(created_at=created_at)
    return user


@pytest.fixture
def frozen():
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def admin(db, frozen):
    return _user(
        _ago(days=400), username="root", is_staff=True, is_superuser=True, role=builtin("admin")
    )


@pytest.fixture
def known_world(admin):
    acme = Tenant.objects.create(name="Acme", slug="acme")
    globex = Tenant.objects.create(name="Globex", slug="globex")
    today = _user(_ago(hours=2), username="today", tenant=acme, subscription_plan_id="premium")
    week = _user(_ago(days=3), username="week", tenant=acme)
    _user(_ago(days=20), username="month", tenant=globex, status=User.Status.SUSPENDED)
    _user(_ago(days=90), username="old", status=User.Status.PENDING)
    # Logins: the admin's own (opened by _auth at NOON) comes on top.
    LoginSessionFactory(user=today, created_at=_ago(hours=1), expires_at=_ago(hours=-5))
    LoginSessionFactory(
        user=week, created_at=_ago(days=2), expires_at=_ago(days=1), revoked_at=None
    )
    LoginSessionFactory(
        user=week, created_at=_ago(days=10), expires_at=_ago(hours=-1), revoked_at=_ago(days=9)
    )
    LoginSessionFactory(user=week, created_at=_ago(days=45), expires_at=_ago(days=44))
    # Conversations.
    MessageLogFactory(user_id=today.pk, model="gpt-4o", tokens_used=10, timestamp=_ago(hours=1))
    MessageLogFactory(user_id=today.pk, model="gpt-4o", tokens_used=20, timestamp=_ago(days=2))
    MessageLogFactory(user_id=week.pk, model="echo-1", tokens_used=5, timestamp=_ago(days=2))
    MessageLogFactory(user_id=week.pk, model="echo-1", tokens_used=7, timestamp=_ago(days=12))
    MessageLogFactory(user_id=week.pk, model="echo-1", tokens_used=1, timestamp=_ago(days=13))
    MessageLogFactory(user_id=week.pk, model="old-model", tokens_used=99, timestamp=_ago(days=40))
    account = account_for(today)
    account.used_today = 3
    account.save(update_fields=["used_today"])
    # Failed logins and blocks.
    for occurred_at in (_ago(hours=1), _ago(days=2), _ago(days=9)):
        SecurityEvent.objects.create(
            kind=SecurityEvent.Kind.LOGIN_FAILED, severity=Severity.WARNING, occurred_at=occurred_at
        )
    SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.RATE_LIMITED, severity=Severity.WARNING, occurred_at=_ago(hours=1)
    )
    IPBlock.objects.create(ip_address="203.0.113.1", reason="t", blocked_until=_ago(hours=-1))
    IPBlock.objects.create(ip_address="203.0.113.1", reason="t", blocked_until=_ago(hours=-2))
    IPBlock.objects.create(ip_address="203.0.113.2", reason="t", blocked_until=_ago(hours=1))
    IPBlock.objects.create(
        ip_address="203.0.113.3", reason="t", blocked_until=_ago(hours=-1), lifted_at=_ago(hours=1)
    )
    return {"acme": acme, "globex": globex}


def test_statistics_of_a_known_world(api_client, known_world, admin):
    response = api_client.get(URL, **_auth(admin))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    stats = body["statistics"]
    assert stats["users"] == {
        "total": 5,
        "by_status": {"active": 3, "suspended": 1, "pending": 1, "deleted": 0},
        "by_plan": {"free": 4, "premium": 1},
        "by_tenant": [
            {"tenant_id": known_world["acme"].pk, "name": "Acme", "users": 2},
            {"tenant_id": known_world["globex"].pk, "name": "Globex", "users": 1},
        ],
        "without_tenant": 2,
    }
    assert stats["signups"] == {"today": 1, "last_7_days": 2, "last_30_days": 3}
    # The admin's own session opened at noon counts as a login today.
    assert stats["logins"] == {"today": 2, "last_7_days": 3, "last_30_days": 4}
    assert stats["active_sessions"] == 2  # the member's live one and the admin's
    assert stats["conversations"] == {"today": 1, "last_7_days": 3, "last_30_days": 5}
    assert stats["tokens_used"] == {"today": 10, "last_7_days": 35, "last_30_days": 43}
    assert stats["credits_used"] == {
        "today": 1,
        "last_7_days": 3,
        "last_30_days": 5,
        "since_daily_reset": 3,
    }
    assert stats["top_models"] == [
        {"model": "echo-1", "conversations": 3, "tokens_used": 13},
        {"model": "gpt-4o", "conversations": 2, "tokens_used": 30},
    ]
    assert stats["failed_logins"] == {"today": 1, "last_7_days": 2}
    assert stats["blocked_ips"] == 1


def _grow(count: int, tenant) -> None:
    users = UserFactory.create_batch(count, tenant=tenant)
    for user in users:
        LoginSessionFactory(user=user)
        MessageLogFactory(user_id=user.pk)
        account_for(user)


@production_services_only
def test_the_number_of_queries_does_not_grow_with_the_users(
    api_client, admin, django_assert_max_num_queries
):
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    auth = _auth(admin)
    _grow(3, tenant)
    with django_assert_max_num_queries(MAX_QUERIES):
        small = api_client.get(URL, **auth)

    _grow(30, tenant)
    cache.delete(STATISTICS_CACHE_KEY)  # counted afresh, not the minute-old figures
    with django_assert_max_num_queries(MAX_QUERIES):
        large = api_client.get(URL, **auth)

    assert small.json()["statistics"]["users"]["total"] == 4
    assert large.json()["statistics"]["users"]["total"] == 34
    assert large.json()["statistics"]["conversations"]["today"] == 33


@production_services_only
def test_the_figures_are_kept_for_a_minute(api_client, admin):
    auth = _auth(admin)
    first = api_client.get(URL, **auth).json()["statistics"]
    UserFactory.create_batch(2)

    assert api_client.get(URL, **auth).json()["statistics"] == first
    assert cache.ttl(STATISTICS_CACHE_KEY) <= STATISTICS_CACHE_SECONDS
    cache.delete(STATISTICS_CACHE_KEY)
    fresh = api_client.get(URL, **auth).json()["statistics"]
    assert fresh["users"]["total"] == first["users"]["total"] + 2


def test_statistics_are_for_platform_admins_only(api_client, admin):
    member = UserFactory(username="member")
    staff = UserFactory(username="ops", is_staff=True, role=builtin("admin"))

    assert_envelope(api_client.get(URL), 401)
    assert_envelope(api_client.get(URL, **_auth(member)), 403)
    assert api_client.get(URL, **_auth(staff)).status_code == 200
    assert LoginSession.objects.filter(user=member).exists()
