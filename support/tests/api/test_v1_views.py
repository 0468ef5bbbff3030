from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.helpers import assert_envelope
from security.models import SecurityEvent, Severity
from security.tests.factories import SecurityEventFactory
from security.tests.helpers import platform_admin_auth

URL = "/v1/admin-panel/security-logs"


@pytest.fixture
def events(db):
    now = timezone.now()
    rows = [
        ("login_failed", Severity.WARNING, "203.0.113.1", "ada", now - timedelta(hours=3)),
        ("login_failed", Severity.WARNING, "203.0.113.2", "bob", now - timedelta(hours=2)),
        ("ip_blocked", Severity.CRITICAL, "203.0.113.1", "", now - timedelta(hours=1)),
        ("rate_limited", Severity.INFO, "203.0.113.3", "", now),
    ]
    return [
        SecurityEventFactory(
            kind=kind, severity=severity, ip_address=ip, username=username, occurred_at=at
        )
        for kind, severity, ip, username, at in rows
    ]


@pytest.fixture
def auth(api_client, db):
    auth = platform_admin_auth(api_client)
    SecurityEvent.objects.all().delete()  # drop the admin's own login noise, if any
    return auth


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_documented_query_filters_by_severity_and_paginates(api_client, auth, events):
    response = api_client.get(f"{URL}?page=1&severity=warning", **auth)

    body = response.json()
    assert response.status_code == 200
    assert body["success"] is True
    assert body["pagination"] == {"page": 1, "page_size": 50, "total": 2, "pages": 1}
    assert _ids(response) == [events[1].pk, events[0].pk]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=ip_blocked", [2]),
        ("ip=203.0.113.1", [2, 0]),
        ("username=ADA", [0]),
        ("severity=critical", [2]),
    ],
)
def test_filters(api_client, auth, events, query, expected):
    response = api_client.get(f"{URL}?{query}", **auth)

    assert _ids(response) == [events[index].pk for index in expected]


def test_time_range_filter(api_client, auth, events):
    since = (timezone.now() - timedelta(hours=2, minutes=30)).isoformat().replace("+00:00", "Z")
    until = (timezone.now() - timedelta(minutes=30)).isoformat().replace("+00:00", "Z")

    response = api_client.get(URL, {"since": since, "until": until}, **auth)

    assert _ids(response) == [events[2].pk, events[1].pk]


def test_page_size_and_second_page(api_client, auth, events):
    response = api_client.get(f"{URL}?page=2&page_size=3", **auth)

    assert response.json()["pagination"] == {"page": 2, "page_size": 3, "total": 4, "pages": 2}
    assert _ids(response) == [events[0].pk]


@pytest.mark.parametrize("query", ["severity=loud", "ip=not-an-ip", "since=yesterday", "user_id=x"])
def test_bad_filters_are_400(api_client, auth, events, query):
    assert_envelope(api_client.get(f"{URL}?{query}", **auth), 400, "VALIDATION_ERROR")


def test_page_out_of_range_is_404_envelope(api_client, auth, events):
    assert_envelope(api_client.get(f"{URL}?page=9", **auth), 404)


def test_ordinary_user_is_refused(api_client, db):
    from accounts.tests.factories import UserFactory
    from accounts.tests.helpers import bearer, login

    user = UserFactory()
    auth = bearer(login(api_client, user.email)["access_token"])

    assert_envelope(api_client.get(URL, **auth), 403)
    assert_envelope(api_client.get(URL), 401)
