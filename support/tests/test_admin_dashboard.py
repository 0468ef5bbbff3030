"""The dashboard above the admin site's index, as a platform admin meets it at
GET /admin/: the figures of a small known world, the per-day series, inline charts
that fetch nothing, the operations panel, the query bound, the cache, and who sees it."""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import LoginSessionFactory, UserFactory
from accounts.tests.world import builtin
from core.tests.markers import production_services_only, redis_only
from credits.services import account_for
from messagelog import services as messagelog_services
from messagelog.tests.factories import MessageLogFactory
from messagelog.tests.helpers import conversation
from security.models import IPBlock, SecurityEvent, Severity
from tenants.models import Tenant

INDEX = "/admin/"
# Noon, so that "today" (since midnight) and "the last hours" are the same thing.
NOON = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)
TODAY = NOON.date()
# The 16 aggregates (11 of `statistics`, 4 series, top users), one for the newest
# security events, one for the newest failed webhook deliveries, and the page's own
# three (session, user, the admin's recent actions).
MAX_QUERIES = 21
AGGREGATE = re.compile(r"\b(COUNT|SUM|GROUP BY)\b", re.IGNORECASE)


def _ago(**delta):
    return NOON - timedelta(**delta)


def _user(created_at, **fields) -> User:
    user = UserFactory(**fields)
    User.objects.filter(pk=user.pk).update(created_at=created_at)
    return user


def _failed_login(occurred_at, **fields) -> SecurityEvent:
    return SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.LOGIN_FAILED,
        severity=Severity.WARNING,
        occurred_at=occurred_at,
        **fields,
    )


class _Page(HTMLParser):
    """The figures (`data-figure` cells) and each chart's table, by its caption."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.charts: dict[str, list[list[str]]] = {}
        self._figure_key = None
        self._caption = None
        self._in_caption = False
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-figure" in attrs:
            self._figure_key = attrs["data-figure"]
            self.figures[self._figure_key] = ""
        if tag == "figcaption":
            self._in_caption, self._caption = True, ""
        elif tag == "tr" and self._caption is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._figure_key = None
            if self._cell is not None:
                self._row.append(self._cell.strip())
                self._cell = None
        elif tag == "figcaption":
            self._in_caption = False
            self.charts[self._caption] = []
        elif tag == "tr" and self._row is not None:
            self.charts[self._caption].append(self._row)
            self._row = None
        elif tag == "figure":
            self._caption = None

    def handle_data(self, data):
        if self._figure_key is not None:
            self.figures[self._figure_key] += data
        if self._in_caption:
            self._caption += data
        if self._cell is not None:
            self._cell += data


def _page(client) -> tuple[str, _Page]:
    response = client.get(INDEX)
    assert response.status_code == 200, response.content
    html = response.content.decode()
    page = _Page()
    page.feed(html)
    return html, page


def _figures(page: _Page) -> dict[str, str]:
    return {key: " ".join(value.split()) for key, value in page.figures.items()}


def _series(page: _Page, title_start: str) -> dict[str, list[str]]:
    """A chart's numbers: {day or category: [values]} (the header row left out)."""
    (caption,) = [caption for caption in page.charts if caption.startswith(title_start)]
    _header, *rows = page.charts[caption]
    return {row[0]: row[1:] for row in rows}


@pytest.fixture
def frozen():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def admin(db, frozen):
    return _user(
        _ago(days=400), username="root", is_staff=True, is_superuser=True, role=builtin("admin")
    )


@pytest.fixture
def admin_page(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def known_world(admin):
    acme = Tenant.objects.create(name="Acme", slug="acme")
    today = _user(_ago(hours=2), username="today", tenant=acme, subscription_plan_id="premium")
    week = _user(_ago(days=3), username="week", tenant=acme)
    _user(_ago(days=20), username="month", status=User.Status.SUSPENDED)
    _user(_ago(days=90), username="old", status=User.Status.PENDING)
    LoginSessionFactory(user=today, created_at=_ago(hours=1), expires_at=_ago(hours=-5))
    LoginSessionFactory(user=week, created_at=_ago(days=2), expires_at=_ago(days=1))
    LoginSessionFactory(
        user=week, created_at=_ago(days=10), expires_at=_ago(hours=-1), revoked_at=_ago(days=9)
    )
    LoginSessionFactory(user=week, created_at=_ago(days=45), expires_at=_ago(days=44))
    MessageLogFactory(user_id=today.pk, username="today", model="gpt-4o", timestamp=_ago(hours=1))
    MessageLogFactory(user_id=today.pk, username="today", model="gpt-4o", timestamp=_ago(days=2))
    MessageLogFactory(user_id=week.pk, username="week", model="echo-1", timestamp=_ago(days=2))
    MessageLogFactory(user_id=week.pk, username="week", model="echo-1", timestamp=_ago(days=12))
    MessageLogFactory(user_id=week.pk, username="week", model="echo-1", timestamp=_ago(days=13))
    MessageLogFactory(user_id=week.pk, username="week", model="old", timestamp=_ago(days=40))
    account = account_for(today)
    account.used_today = 3
    account.save(update_fields=["used_today"])
    for occurred_at in (_ago(hours=1), _ago(days=2), _ago(days=9)):
        _failed_login(occurred_at)
    IPBlock.objects.create(ip_address="203.0.113.1", reason="t", blocked_until=_ago(hours=-1))
    IPBlock.objects.create(ip_address="203.0.113.2", reason="t", blocked_until=_ago(hours=1))
    return {"today": today, "week": week}


# ----- figures --------------------------------------------------------------------------


def test_dashboard_shows_the_figures_of_a_known_world(admin_page, known_world):
    html, page = _page(admin_page)

    assert 'id="admin-dashboard"' in html
    figures = _figures(page)
    assert {key: figures[key] for key in figures if key.startswith("users.")} == {
        "users.total": "5",
        "users.without_tenant": "3",
        "users.by_status.active": "3",
        "users.by_status.suspended": "1",
        "users.by_status.pending": "1",
        "users.by_status.deleted": "0",
        "users.by_plan.free": "4",
        "users.by_plan.premium": "1",
    }
    expected = {
        "signups": ("1", "2", "3"),
        "logins": ("1", "2", "3"),
        "conversations": ("1", "3", "5"),
        "credits_used": ("1", "3", "5"),
        "tokens_used": ("4", "12", "20"),
    }
    for name, (today, week, month) in expected.items():
        assert figures[f"{name}.today"] == today, name
        assert figures[f"{name}.last_7_days"] == week, name
        assert figures[f"{name}.last_30_days"] == month, name
    assert figures["failed_logins.today"] == "1"
    assert figures["failed_logins.last_7_days"] == "2"
    assert figures["active_sessions"] == "1"
    assert figures["blocked_ips"] == "1"
    assert figures["credits_used.since_daily_reset"] == "3"
    # Top models over 30 days: echo-1 (3) before gpt-4o (2); the 40-day-old one is out.
    assert figures["top_models.1"] == "3"
    assert figures["top_models.2"] == "2"
    assert "top_models.3" not in figures


def test_dashboard_series_put_each_count_on_its_day(admin_page, admin):
    for day_back, count in ((0, 2), (3, 1), (29, 1)):
        for _ in range(count):
            _user(_ago(days=day_back))
    _user(_ago(days=30))  # the 31st day back: outside the 30 days
    for day_back in (1, 1, 1, 6):
        _failed_login(_ago(days=day_back))
    member = _user(_ago(days=50), username="member")
    for day_back in (0, 5, 5):
        LoginSessionFactory(user=member, created_at=_ago(days=day_back))
    for day_back in (0, 0, 2, 29):
        MessageLogFactory(user_id=member.pk, timestamp=_ago(days=day_back))
    with time_machine.travel(_ago(days=2), tick=False):  # a row written on the day itself
        MessageLogFactory(user_id=member.pk)

    _, page = _page(admin_page)

    def day(back: int) -> str:
        return (TODAY - timedelta(days=back)).isoformat()

    signups = _series(page, "Sign-ups per day")
    assert list(signups) == [day(back) for back in range(29, -1, -1)]
    assert {d: v for d, (v,) in signups.items() if v != "0"} == {
        day(29): "1",
        day(3): "1",
        day(0): "2",
    }
    logins = _series(page, "Logins and failed logins per day")
    assert {d: v for d, v in logins.items() if v != ["0", "0"]} == {
        day(6): ["0", "1"],
        day(5): ["2", "0"],
        day(1): ["0", "3"],
        day(0): ["1", "0"],
    }
    conversations = _series(page, "Conversations and credits used per day")
    assert {d: v for d, v in conversations.items() if v != ["0", "0"]} == {
        day(29): ["1", "1"],
        day(2): ["2", "2"],
        day(0): ["2", "2"],
    }


def test_dashboard_series_count_days_in_the_site_time_zone(admin_page, settings):
    settings.TIME_ZONE = "America/New_York"  # UTC-4 in May
    # 02:00 UTC on the 15th is still the 14th in New York.
    _user(datetime(2024, 5, 15, 2, 0, tzinfo=UTC))
    _user(datetime(2024, 5, 15, 5, 0, tzinfo=UTC))

    _, page = _page(admin_page)

    signups = _series(page, "Sign-ups per day")
    assert signups["2024-05-14"] == ["1"]
    assert signups["2024-05-15"] == ["1"]


def test_dashboard_ranks_the_users_with_the_most_conversations(admin_page, known_world):
    MessageLogFactory(user_id=99, username="", timestamp=_ago(days=1))  # an erased account

    _, page = _page(admin_page)

    top = _series(page, "Top users by conversations")
    assert top == {"week": ["3"], "today": ["2"], "user #99": ["1"]}
    status = _series(page, "Users by status")
    assert status == {"active": ["3"], "suspended": ["1"], "pending": ["1"], "deleted": ["0"]}
    assert _series(page, "Users by plan") == {"free": ["4"], "premium": ["1"]}


# ----- the charts --------------------------------------------------------------------------


def test_charts_are_inline_svg_that_fetch_nothing(admin_page, known_world):
    html, _ = _page(admin_page)

    figures = re.findall(r'<figure class="dashboard-chart".*?</figure>', html, re.DOTALL)
    drawings = [re.search(r"<svg\b.*?</svg>", figure, re.DOTALL).group() for figure in figures]
    assert len(drawings) == 6
    for drawing in drawings:
        assert 'role="img"' in drawing
        assert "<script" not in drawing
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", drawing)
    # Nothing on the page comes from another host: every link and source is local.
    for value in re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)""", html):
        assert not re.match(r"(https?:)?//", value), value
    for script in re.findall(r"<script\b[^>]*>", html):
        source = re.search(r"""src\s*=\s*["']([^"']*)""", script)
        assert source is None or source.group(1).startswith("/static/"), script
    # The text alternative of each chart is a table of its numbers.
    assert html.count("<summary>The numbers</summary>") == 6


def test_chart_labels_are_escaped(admin_page, admin):
    MessageLogFactory(user_id=7, username='<script>alert("x")</script>', timestamp=_ago(hours=1))

    html, page = _page(admin_page)

    assert '<script>alert("x")' not in html
    assert _series(page, "Top users by conversations") == {'<script>alert("x")</script>': ["1"]}


# ----- operations ----------------------------------------------------------------------------


@redis_only
def test_operations_panel_shows_the_queue_and_the_last_flush(admin_page, admin):
    for text in ("one", "two", "three"):
        messagelog_services.enqueue(conversation(user_id=admin.pk, text=text))

    _, page = _page(admin_page)
    figures = _figures(page)
    assert figures["queue.queued"] == "3"
    assert figures["queue.inflight"] == "0"
    assert figures["queue.dead"] == "0"
    assert figures["queue.last_flush"] == "unknown"

    call_command("flush_message_log", stdout=open("/dev/null", "w"))  # noqa: SIM115

    figures = _figures(_page(admin_page)[1])
    assert figures["queue.queued"] == "0"
    assert figures["queue.last_flush"] == "2024-05-15 12:00:00 UTC (3 entries)"


def test_operations_panel_lists_the_ten_newest_security_events(admin_page, admin):
    events = [
        _failed_login(_ago(minutes=minutes), username=f"name{minutes}", ip_address="198.51.100.9")
        for minutes in range(1, 13)
    ]
    locked = SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.ACCOUNT_LOCKED,
        severity=Severity.CRITICAL,
        occurred_at=_ago(seconds=10),
        user_id=admin.pk,
        username="root",
        ip_address="198.51.100.10",
    )

    html, _ = _page(admin_page)

    shown = [locked, *events[:9]]
    for event in shown:
        assert f'href="/admin/security/securityevent/{event.pk}/change/"' in html
    for event in events[9:]:
        assert f"/admin/security/securityevent/{event.pk}/change/" not in html
    assert "Account locked" in html and "critical" in html and f"root (#{admin.pk})" in html
    assert "198.51.100.10" in html
    assert 'href="/admin/security/securityevent/"' in html


# ----- speed -----------------------------------------------------------------------------------


def _bulk_world(size: int) -> None:
    tenant = Tenant.objects.create(name=f"T{size}", slug=f"t{size}")
    users = [
        _user(_ago(days=index % 40), tenant=tenant if index % 2 else None) for index in range(size)
    ]
    for index, user in enumerate(users):
        LoginSessionFactory(user=user, created_at=_ago(days=index % 35))
        MessageLogFactory(user_id=user.pk, model=f"m{index % 12}", timestamp=_ago(days=index % 33))
        _failed_login(_ago(days=index % 31))


@production_services_only
@pytest.mark.parametrize("size", [3, 40])
def test_dashboard_runs_a_fixed_number_of_queries(admin_page, size, django_assert_max_num_queries):
    _bulk_world(size)

    with django_assert_max_num_queries(MAX_QUERIES):
        _page(admin_page)


def test_second_load_runs_no_aggregate_query_until_the_cache_expires(
    admin_page, known_world, frozen
):
    _, first = _page(admin_page)
    assert _figures(first)["users.total"] == "5"
    _user(NOON, username="later")

    with CaptureQueriesContext(connection) as queries:
        _, second = _page(admin_page)

    aggregates = [query["sql"] for query in queries if AGGREGATE.search(query["sql"])]
    assert aggregates == []
    assert _figures(second)["users.total"] == "5"  # computed a moment ago, kept
    if hasattr(cache, "ttl"):  # Redis: the copy lives a minute at most
        (key,) = cache.keys("admin-dashboard:*")
        assert 0 < cache.ttl(key) <= 60
    # The key is the day's: the next day starts from fresh figures.
    frozen.shift(timedelta(days=1))
    assert _figures(_page(admin_page)[1])["users.total"] == "6"


# ----- who sees it -----------------------------------------------------------------------------


def test_a_platform_admin_who_is_not_superuser_sees_the_dashboard(client, db, frozen):
    platform_admin = _user(_ago(days=1), is_staff=True, role=builtin("admin"))
    client.force_login(platform_admin)

    html, _ = _page(client)

    assert 'id="admin-dashboard"' in html


def test_tenant_staff_see_the_index_without_the_dashboard(client, db, frozen):
    from django.contrib.auth.models import Permission

    tenant = Tenant.objects.create(name="Acme", slug="acme")
    staff = _user(_ago(days=1), is_staff=True, tenant=tenant, role=builtin("admin"))
    staff.user_permissions.add(Permission.objects.get(codename="view_apikey"))
    client.force_login(staff)

    html, _ = _page(client)

    assert "/admin/apikeys/apikey/" in html
    assert "admin-dashboard" not in html
    assert "pygal-chart" not in html
    assert "Sign-ups" not in html


@pytest.mark.parametrize("who", ["anonymous", "plain user"])
def test_who_is_not_staff_is_sent_to_the_login(client, db, frozen, who):
    if who == "plain user":
        client.force_login(_user(_ago(days=1)))

    response = client.get(INDEX)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
