"""Every list page of the large tables is served by an index: each query a page runs
is EXPLAINed on tables filled with tens of thousands of generated rows, and a
sequential scan of a large table fails the test (PostgreSQL only: the planner is
what is under test)."""

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.authz.roles import ensure_builtin_roles
from accounts.models import LoginSession, Role, User
from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import UserFactory
from accounts.tests.world import builtin
from core.tests.big_tables import BIG_TABLES, populate_big_tables
from credits.models import Plan
from credits.plans import ensure_builtin_plans
from support.tests.helpers import make_staff, staff_auth

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="query plans are PostgreSQL's: run with DATABASE_URL (CI does)",
)

USER_ORDERINGS = ("id", "-id", "created_at", "-created_at", "username", "-username")
USER_ORDERINGS += ("email", "-email")


@pytest.fixture(scope="module")
def _big_tables(django_db_setup, django_db_blocker) -> Iterator[User]:
    """The generated rows, made once for the module inside one transaction: each test
    runs in a savepoint of it, and the rollback at the end leaves nothing behind."""
    with django_db_blocker.unblock(), transaction.atomic():
        ensure_builtin_roles(Role)
        ensure_builtin_plans(Plan)
        populate_big_tables(
            users=30_000,
            sessions=60_000,
            audit=60_000,
            events=30_000,
            messages=150_000,
            ledger=30_000,
        )
        # Checked once here, not again at the end of every test.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        yield UserFactory(username="root", is_staff=True, is_superuser=True, role=builtin("admin"))
        transaction.set_rollback(True)


@pytest.fixture
def big(_big_tables, db) -> User:
    """The platform admin of the generated tables."""
    return _big_tables


def _headers(user: User, **session) -> dict:
    pair = session_start(user=user, client=ClientInfo("127.0.0.1", "tests"), **session)
    return {"HTTP_AUTHORIZATION": f"Bearer {pair.access}"}


# Nodes that pass rows on as they come: a scan beneath them and a LIMIT stops early.
STREAMING = {"Limit", "Hash Join", "Nested Loop", "Subquery Scan", "Result"}


def _seq_scans(plan: dict, bounded: bool = False) -> list[str]:
    """The large tables read whole by this plan. A sequential scan that reaches a
    LIMIT through streaming nodes only stops at the page's rows: no walk of the table."""
    found = []
    relation = plan.get("Relation Name")
    if plan["Node Type"] == "Seq Scan" and relation in BIG_TABLES and not bounded:
        found.append(relation)
    if plan["Node Type"] == "Limit":
        bounded = True
    elif plan["Node Type"] not in STREAMING:
        bounded = False
    for child in plan.get("Plans", []):
        found += _seq_scans(child, bounded)
    return found


def _assert_indexed(queries, label: str) -> None:
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            if not any(f'"{table}"' in sql for table in BIG_TABLES):
                continue
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0][0]["Plan"]
            scanned = _seq_scans(plan)
            assert not scanned, f"{label}: sequential scan of {scanned} in\n{sql}"


def _get(client, url: str, label: str | None = None, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.content[:500])
    _assert_indexed(queries.captured_queries, label or url)
    return response


def _cursor_of(link: str) -> str:
    return parse_qs(urlparse(link).query)["cursor"][0]


@pytest.mark.django_db
def test_query_plans_user_lists_use_indexes_for_every_filter_and_ordering(big, client, settings):
    settings.RATELIMIT_ENABLE = False  # some forty pages of the admin panel in a minute
    admin = big
    tenant_id = User.objects.filter(tenant__isnull=False).values_list("tenant_id", flat=True)[0]
    filters = [
        "",
        "status=suspended",
        "role=user",
        f"tenant={tenant_id}",
        "plan=premium",
        "created_after=2026-01-01T00:00:00Z",
        "search=member12345",
    ]
    auth = _headers(admin, mfa_verified=True)
    for base in ("/api/v1/users", "/v1/admin-panel/users"):
        for query in filters:
            _get(client, f"{base}?{query}", **auth)
        for ordering in USER_ORDERINGS:
            _get(client, f"{base}?ordering={ordering}&page=3", **auth)
            first = _get(client, f"{base}?ordering={ordering}&cursor=", **auth).json()
            cursor = _cursor_of(first["next"])
            _get(client, f"{base}?ordering={ordering}&cursor={cursor}", **auth)


@pytest.mark.django_db
def test_query_plans_tenant_admin_lists_its_users_through_the_tenant_index(big, client):
    member = User.objects.filter(tenant__isnull=False).first()
    tenant_admin = UserFactory(tenant_id=member.tenant_id, role=builtin("admin"))
    auth = _headers(tenant_admin)
    for ordering in ("id", "-created_at", "username"):
        _get(client, f"/api/v1/users?ordering={ordering}&cursor=", **auth)


@pytest.mark.django_db
def test_query_plans_security_lists_and_conversation_pages_use_indexes(big, client):
    admin = big
    auth = _headers(admin, mfa_verified=True)
    for url in (
        "/v1/admin-panel/audit-logs",
        "/v1/admin-panel/audit-logs?cursor=",
        "/v1/admin-panel/audit-logs?action=user.update",
        "/v1/admin-panel/audit-logs?target_type=accounts.user&target_id=17",
        "/v1/admin-panel/audit-logs?actor_id=5",
        "/v1/admin-panel/security-logs",
        "/v1/admin-panel/security-logs?cursor=",
        "/v1/admin-panel/security-logs?severity=critical",
        "/v1/admin-panel/security-logs?username=member17",
        "/v1/admin-panel/security-logs?ip=10.0.0.9",
    ):
        _get(client, url, **auth)

    member = User.objects.filter(username="member4242").get()
    _get(client, f"/v1/admin-panel/message-logs/{member.pk}", **auth)
    _get(client, f"/v1/admin-panel/message-logs/{member.pk}?cursor=", **auth)
    support = make_staff(User.SupportLevel.ADVANCED)
    _get(client, f"/v1/support/users/{member.pk}/messages", **staff_auth(support))
    _get(client, "/api/v1/users/me/messages", **_headers(member))


@pytest.mark.django_db
def test_query_plans_admin_changelists_of_large_tables_use_indexes(big, client):
    """The user search finds its ids through the trigram indexes (one SELECT per
    column, or the words' bitmaps ANDed), then fetches them by primary key."""
    client.force_login(big)
    slug = User.objects.filter(tenant__isnull=False).values_list("tenant__slug", flat=True)[0]
    for url in (
        "/admin/accounts/user/",
        "/admin/accounts/user/?p=40",
        f"/admin/accounts/user/?tenant__slug={slug}",
        "/admin/accounts/user/?role__name=moderator",
        f"/admin/accounts/role/?tenant__slug={slug}",
        "/admin/accounts/user/?status__exact=suspended",
        "/admin/accounts/user/?is_staff__exact=1",
        "/admin/accounts/user/?q=member4242",
        "/admin/accounts/user/?q=member42+example",
        "/admin/accounts/user/?q=member1+member2",  # each common, none together
        "/admin/accounts/loginsession/",
        "/admin/accounts/loginsession/?q=10.0.0.1",
        "/admin/security/auditlog/",
        "/admin/security/auditlog/?action=user.update",
        "/admin/security/auditlog/?q=17",
        "/admin/security/securityevent/",
        "/admin/security/securityevent/?severity__exact=critical",
        "/admin/security/securityevent/?q=member17",
        "/admin/messagelog/messagelog/",
        "/admin/messagelog/messagelog/?q=member4242",
        "/admin/credits/creditledgerentry/",
        "/admin/credits/creditaccount/",
    ):
        _get(client, url)


@pytest.mark.django_db
def test_query_plans_a_rare_roles_oldest_holders_are_read_through_the_role_index(big, client):
    """A role held only by some of the oldest accounts, newest first: the page reads
    its holders through (role, created_at), not backwards through every newer
    account in the creation-time index, filtering each."""
    oldest = list(User.objects.order_by("created_at").values_list("pk", flat=True)[:300])
    User.objects.filter(pk__in=oldest).update(role=builtin("moderator"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_user")
    client.force_login(big)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/accounts/user/?role__name=moderator")

    assert response.status_code == 200
    per_page = response.context["cl"].list_per_page
    assert len(response.context["cl"].result_list) == per_page  # a page of 300 holders
    page_sql = next(
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "accounts_user"."id"') and f"LIMIT {per_page}" in q["sql"]
    )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {page_sql}")
        plan = json.dumps(cursor.fetchone()[0])
    assert "user_role_created_idx" in plan, plan


@pytest.mark.django_db
def test_query_plans_admin_user_list_shows_an_estimate_not_a_count(big, client):
    client.force_login(big)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/accounts/user/")
    assert response.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert not any('FROM "accounts_user"' in sql and "LIMIT" not in sql for sql in counts)
    assert LoginSession.objects.exists()


@pytest.mark.django_db
def test_query_plans_user_statistics_read_the_running_totals(big, client):
    """Uncached, the user statistics of every user and of a tenant read the running
    totals: no query touches the user table."""
    from core.tests.cache import clear_cache

    member = User.objects.filter(tenant__isnull=False).first()
    tenant_admin = UserFactory(tenant_id=member.tenant_id, role=builtin("admin"))
    for actor in (big, tenant_admin):
        clear_cache()
        response = _get(client, "/api/v1/users/stats", **_headers(actor, mfa_verified=True))
        assert response.json()["total"] >= 1
    with CaptureQueriesContext(connection) as queries:
        clear_cache()
        _get(client, "/api/v1/users/stats?since=2026-01-01", **_headers(big, mfa_verified=True))
    figures = [query["sql"] for query in queries.captured_queries if "tally" in query["sql"]]
    assert len(figures) == 2
    assert not [
        query["sql"]
        for query in queries.captured_queries
        if "GROUP BY" in query["sql"] and '"accounts_user"' in query["sql"]
    ]
