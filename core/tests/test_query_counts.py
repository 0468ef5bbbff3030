"""The number of queries each hot endpoint runs, pinned: a page that starts querying
per row, or a lookup that stops being cached, fails here before it shows in
production. The numbers are what each request runs today, with a few rows more than
a page holds so that a query per row would show."""

from unittest import mock

import pytest
from django.contrib.auth.hashers import get_hasher
from rest_framework.test import APIClient

from accounts.models import LoginSession, User
from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.world import builtin
from apikeys.services import apikey_regenerate_primary
from core.tests.cache import clear_cache
from core.tests.markers import production_services_only
from credits.services import account_for
from gateway.tests.helpers import COMPLETIONS, PROMPT

# The pins are production's: statements on PostgreSQL with the cache in Redis.
pytestmark = production_services_only

PAGE_SIZE = 5
ROWS = PAGE_SIZE * 2 + 1


@pytest.fixture
def crowd(db):
    """Platform admin with an MFA-verified session, and more users than two pages."""
    admin = UserFactory(username="root", is_staff=True, is_superuser=True, role=builtin("admin"))
    for number in range(ROWS):
        account_for(UserFactory(username=f"crowd{number}"))
    return admin


def _tokens(user: User, **session):
    return session_start(user=user, client=ClientInfo("127.0.0.1", "tests"), **session)


def _bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _get(client, url: str, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.content[:300])
    return response


def test_query_counts_me(crowd, django_assert_max_num_queries):
    member = User.objects.get(username="crowd0")
    auth = _bearer(_tokens(member).access)
    client = APIClient()

    with django_assert_max_num_queries(3):
        _get(client, "/api/v1/users/me", **auth)
    # The session and the user are cached now: nothing reaches the database.
    with django_assert_max_num_queries(0):
        _get(client, "/api/v1/users/me", **auth)


@pytest.mark.parametrize(
    "url", ["/api/v1/auth/refresh", "/v1/users/refresh"], ids=["api", "v1-users"]
)
def test_query_counts_token_refresh(crowd, django_assert_max_num_queries, url):
    """A routine refresh (the session's client again) is one conditional UPDATE; the
    account is read as an authenticated request reads it (once, then from the
    cache). A refresh from another client takes the locked, audited path."""
    member = User.objects.get(username="crowd1")
    surface = LoginSession.Surface.USERS if url.startswith("/v1/") else LoginSession.Surface.API
    refresh = _tokens(member, surface=surface).refresh
    client = APIClient(HTTP_USER_AGENT="tests")

    def rotate(most: int, **headers) -> str:
        with django_assert_max_num_queries(most) as queries:
            response = client.post(url, {"refresh_token": refresh}, format="json", **headers)
        assert response.status_code == 200, response.content[:300]
        assert not [q for q in queries.captured_queries if "token_blacklist" in q["sql"]]
        body = response.json()
        return body.get("refresh_token") or body["session"]["refresh_token"]

    refresh = rotate(2)  # the UPDATE ... RETURNING; the user
    refresh = rotate(1)
    # The UPDATE that matched nothing, then BEGIN, SELECT ... FOR UPDATE, UPDATE,
    # INSERT audit, COMMIT
    refresh = rotate(6, HTTP_USER_AGENT="another browser")
    refresh = rotate(1, HTTP_USER_AGENT="another browser")


@pytest.mark.parametrize("typed", ["username", "email"])
@pytest.mark.parametrize("algorithm", ["bcrypt", "argon2id"])
def test_query_counts_login_checks_the_password_once(
    crowd, django_assert_max_num_queries, settings, algorithm, typed
):
    """The one hash a login pays for is the check of the stored one: no dummy hash, no
    re-hash of a current hash. The queries are the account lookup (once, shared by
    the lockout, the login and the lockout's success handler, whichever name was
    typed), the lockout's count, the MFA check, whether the account has failures to
    reset (it has none), `last_login` and the session with its audit row and event, in
    one transaction (a savepoint and its release here, inside the test's)."""
    if algorithm == "argon2id":
        settings.PASSWORD_HASHERS = [
            "accounts.auth.hashers.ConfiguredArgon2PasswordHasher",
            "accounts.auth.hashers.ConfiguredBCryptSHA256PasswordHasher",
        ]
    member = User.objects.get(username="crowd3")
    member.set_password(DEFAULT_PASSWORD)
    member.save(update_fields=["password"])
    hasher = type(get_hasher("default"))
    body = {"username": getattr(member, typed), "password": DEFAULT_PASSWORD}
    with (
        mock.patch.object(hasher, "verify", autospec=True, side_effect=hasher.verify) as verify,
        mock.patch.object(
            User, "set_password", autospec=True, side_effect=User.set_password
        ) as set_password,
        django_assert_max_num_queries(10),
    ):
        response = APIClient().post("/api/v1/auth/login", body, format="json")

    assert response.status_code == 200, response.content[:300]
    assert (verify.call_count, set_password.call_count) == (1, 0)


def test_query_counts_metered_completion(crowd, django_assert_max_num_queries):
    member = User.objects.get(username="crowd2")
    auth = _bearer(apikey_regenerate_primary(user=member, actor=member).clear)
    client = APIClient()

    with django_assert_max_num_queries(4):
        response = client.post(COMPLETIONS, PROMPT, format="json", **auth)
    assert response.status_code == 200, response.content[:300]
    # The key and its owner are cached; the credit taken is the one statement left.
    with django_assert_max_num_queries(1):
        response = client.post(COMPLETIONS, PROMPT, format="json", **auth)
    assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize(
    ("base", "most"),
    [("/api/v1/users", 3), ("/v1/admin-panel/users", 3)],
)
def test_query_counts_user_lists(crowd, django_assert_max_num_queries, base, most):
    """A numbered page: the capped count, the page and the roles of its rows; a
    keyset page: the page alone."""
    auth = _bearer(_tokens(crowd, mfa_verified=True).access)
    client = APIClient()
    _get(client, f"{base}?page_size=1", **auth)  # the caller's session now cached

    with django_assert_max_num_queries(most):
        paged = _get(client, f"{base}?page_size={PAGE_SIZE}&page=2", **auth).json()
    assert len(paged["results"]) == PAGE_SIZE
    with django_assert_max_num_queries(1):
        first = _get(client, f"{base}?page_size={PAGE_SIZE}&cursor=", **auth).json()
    with django_assert_max_num_queries(1):
        second = client.get(first["next"], **auth).json()
    assert len(second["results"]) == PAGE_SIZE


def test_query_counts_admin_user_changelist(crowd, client, django_assert_max_num_queries):
    client.force_login(crowd)
    _get(client, "/admin/")

    with django_assert_max_num_queries(9):
        page = _get(client, "/admin/accounts/user/")
    assert page.content.count(b"crowd") >= ROWS
    # A search of a rare word adds two: its rows counted up to RARE_WORD_ROWS, then
    # the ids of its users, found once for the page and its count.
    with django_assert_max_num_queries(10):
        _get(client, "/admin/accounts/user/?q=crowd1")
    with django_assert_max_num_queries(10):
        _get(client, "/admin/accounts/user/?q=cr")


def test_query_counts_admin_dashboard(crowd, client, django_assert_max_num_queries):
    client.force_login(crowd)
    clear_cache()

    # The figures, the newest security events and the newest failed webhook deliveries.
    with django_assert_max_num_queries(21):
        _get(client, "/admin/")
    # Within DASHBOARD_CACHE_SECONDS the figures come from the cache.
    with django_assert_max_num_queries(5):
        _get(client, "/admin/")


def test_query_counts_user_statistics(crowd, django_assert_max_num_queries):
    """Uncached, the statistics read the running totals: the groups, the roles'
    names and the sign-ups per day, whatever the number of users."""
    auth = _bearer(_tokens(crowd, mfa_verified=True).access)
    client = APIClient()
    _get(client, "/api/v1/users/me", **auth)
    clear_cache()
    _get(client, "/api/v1/users/me", **auth)

    with django_assert_max_num_queries(3):
        figures = _get(client, "/api/v1/users/stats", **auth).json()
    assert figures["total"] == ROWS + 1
