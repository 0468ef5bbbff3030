"""Bad input on every API route answers 4xx in the error envelope, never a 500.

The routes are read from the URL resolver, so a route added later is walked too:
JSON nested 1,000 deep, NUL and lone surrogates in bodies, query strings and
headers, OPTIONS with a token, and ids that are not integers or overflow bigint.
"""

import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.tests.helpers import assert_envelope
from accounts.tests.world import build_world

# Paths that serve HTML to people or are not part of the API (stored files under media/,
# the OAuth protocol endpoints, which answer in OAuth's own error format).
_NOT_API = (
    "admin/",
    "docs",
    "redoc",
    "openapi.json",
    "metrics",
    "media/",
    "oauth/",
    ".well-known",
    r"\.well-known",
)
# A sample for each kind of path parameter: the value a client would normally send.
_SAMPLE_BY_PATTERN = {r"\d+": "1", r"[0-9a-f-]{36}": "00000000-0000-0000-0000-000000000000"}
_DEFAULT_LOOKUP = "[^/.]+"
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<pattern>[^)]*)\)")


@dataclass(frozen=True)
class Route:
    regex: str  # the whole path regex, from the root

    def path(self, **values: str) -> str:
        """The route's path, each parameter given its value or a sample."""

        def fill(match: re.Match) -> str:
            name, pattern = match["name"], match["pattern"]
            if name in values:
                return values[name]
            return _SAMPLE_BY_PATTERN.get(pattern, "1")

        body = _GROUP.sub(fill, self.regex).lstrip("^").rstrip("$")
        body = body.replace("/?", "/").replace("\\.", ".")
        return "/" + body

    @property
    def parameters(self) -> list[str]:
        return [match["name"] for match in _GROUP.finditer(self.regex)]


def _regex_of(pattern) -> str:
    text = str(pattern.pattern)
    return text.lstrip("^").rstrip("$")


def _walk(patterns, prefix: str = "") -> list[Route]:
    routes = []
    for entry in patterns:
        regex = prefix + _regex_of(entry)
        if isinstance(entry, URLResolver):
            routes.extend(_walk(entry.url_patterns, regex))
        elif isinstance(entry, URLPattern):
            if "(?P<format>" in regex:  # DRF's optional format suffix routes
                continue
            routes.append(Route(regex))
    return routes


def api_routes() -> list[Route]:
    routes = _walk(get_resolver().url_patterns)
    unique = {route.regex: route for route in routes if not route.regex.startswith(_NOT_API)}
    return list(unique.values())


ROUTES = api_routes()
ROUTE_IDS = [route.path() for route in ROUTES]
WITH_PARAMETERS = [route for route in ROUTES if route.parameters]
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def test_the_walk_finds_every_kind_of_route():
    paths = set(ROUTE_IDS)
    assert {"/api/v1/users/me/", "/v1/prompt/completions/", "/v1/admin-panel/users/1/"} <= paths
    assert "/api/v1/users/1/" in paths  # a router's default lookup
    assert len(paths) > 60


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def admin_auth(world) -> dict:
    return world.auth("platform_admin")


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _assert_client_error(response) -> dict:
    """4xx in the envelope (or a success that never read the input)."""
    assert response.status_code < 500, (response.status_code, response.content[:500])
    if response.status_code >= 400:
        return assert_envelope(response, response.status_code)
    return {}


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("method", BODY_METHODS)
def test_json_nested_a_thousand_deep_is_refused(api_client, admin_auth, route, method):
    body = '{"name": %s, "preferences": {"a": %s}}' % (_deep(1000), _deep(1000))  # noqa: UP031

    response = api_client.generic(
        method, route.path(), body, content_type="application/json", **admin_auth
    )

    _assert_client_error(response)
    if response.status_code == 400:
        assert response.json()["error_code"] == "JSON_TOO_DEEP"


_EVERY_FIELD = (
    "email",
    "username",
    "password",
    "name",
    "identifier",
    "refresh_token",
    "token",
    "code",
    "reason",
    "search",
    "slug",
    "description",
    "ip_address",
)


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("method", BODY_METHODS)
@pytest.mark.parametrize("bad", ["\\u0000", "\\ud800"], ids=["nul", "lone-surrogate"])
def test_bad_characters_in_a_json_body_are_refused(api_client, admin_auth, route, method, bad):
    fields = ", ".join(f'"{field}": "x{bad}y"' for field in _EVERY_FIELD)
    body = '{%s, "preferences": {"k%s": "v"}}' % (fields, bad)  # noqa: UP031

    response = api_client.generic(
        method, route.path(), body, content_type="application/json", **admin_auth
    )

    _assert_client_error(response)
    if response.status_code == 400:
        assert response.json()["error_code"] == "INVALID_CHARACTERS"


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("bad", ["%00", "%ED%A0%80", "%FF"], ids=["nul", "surrogate", "not-utf8"])
def test_bad_characters_in_a_query_string_are_refused(api_client, admin_auth, route, bad):
    names = ("search", "q", "email", "username", "status", "ordering", "reason", "ip_address")
    query = "&".join(f"{name}=a{bad}b" for name in names)

    response = api_client.get(f"{route.path()}?{query}", **admin_auth)

    _assert_client_error(response)


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_options_with_a_token_answers(api_client, admin_auth, route):
    response = api_client.options(route.path(), **admin_auth)

    _assert_client_error(response)


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_options_with_a_bad_token_answers(api_client, db, route):
    response = api_client.options(route.path(), HTTP_AUTHORIZATION="Bearer not-a-token")

    _assert_client_error(response)


_BAD_IDS = ("abc", "1.5", "-1", "1e3", "99999999999999999999", "9223372036854775808", "%20")
# Routes whose path parameter is a free-form identifier rather than a row id.
_IDENTIFIER_ROUTES = ("v1/admin-panel/lockouts/",)
ID_ROUTES = [route for route in WITH_PARAMETERS if not route.regex.startswith(_IDENTIFIER_ROUTES)]


@pytest.mark.parametrize("route", ID_ROUTES, ids=[route.path() for route in ID_ROUTES])
@pytest.mark.parametrize("method", ("GET", "PUT", "PATCH", "DELETE", "POST"))
@pytest.mark.parametrize("bad", _BAD_IDS)
def test_an_id_that_is_not_a_stored_integer_is_not_found(
    api_client, admin_auth, route, method, bad
):
    path = route.path(**dict.fromkeys(route.parameters, bad))

    response = api_client.generic(method, path, "{}", content_type="application/json", **admin_auth)

    # 405 where the route has no such method whatever the id; a write may check its
    # body (400) before it looks the row up.
    allowed = (404, 405) if method == "GET" else (400, 404, 405)
    assert response.status_code in allowed, response.content[:300]
    assert_envelope(response, response.status_code)


@pytest.mark.parametrize("route", WITH_PARAMETERS, ids=[route.path() for route in WITH_PARAMETERS])
@pytest.mark.parametrize("method", ("GET", "DELETE"))
def test_a_nul_in_a_path_parameter_is_refused(api_client, admin_auth, route, method):
    path = route.path(**dict.fromkeys(route.parameters, "ab%00c"))

    response = api_client.generic(method, path, **admin_auth)

    assert_envelope(response, 400, "INVALID_CHARACTERS")


@pytest.mark.parametrize("url", ["/api/v1/auth/login", "/v1/users/login"])
@pytest.mark.parametrize("charset", ["utf-7", "unicode_escape"])
def test_a_lone_surrogate_spelled_raw_by_the_charset_is_refused(api_client, db, url, charset):
    body = '{"email": "victim\ud800@example.com", "password": "Wrong-password-1"}'

    response = api_client.generic(
        "POST", url, body.encode(charset), content_type=f"application/json; charset={charset}"
    )

    assert_envelope(response, 400, "INVALID_CHARACTERS")


@pytest.mark.parametrize("url", ["/api/v1/auth/login", "/v1/users/login"])
def test_a_login_identifier_with_nul_is_refused_before_the_lockout_counts_it(api_client, db, url):
    from axes.models import AccessAttempt

    body = '{"email": "victim\\u0000@example.com", "password": "Wrong-password-1"}'

    response = api_client.generic("POST", url, body, content_type="application/json")

    assert_envelope(response, 400, "INVALID_CHARACTERS")
    assert not AccessAttempt.objects.exists()


def test_a_lockout_id_with_nul_is_refused(api_client, admin_auth):
    response = api_client.delete("/v1/admin-panel/lockouts/victim%00", **admin_auth)

    assert_envelope(response, 400, "INVALID_CHARACTERS")


@pytest.mark.parametrize("url", ["/api/v1/users", "/v1/admin-panel/users", "/api/v1/tenants"])
def test_a_search_with_nul_is_refused(api_client, admin_auth, url):
    assert_envelope(api_client.get(f"{url}?search=a%00b", **admin_auth), 400, "INVALID_CHARACTERS")


def test_a_header_with_nul_is_refused(api_client, admin_auth):
    response = api_client.get("/api/v1/users/me", HTTP_USER_AGENT="agent\x00", **admin_auth)

    assert_envelope(response, 400, "INVALID_CHARACTERS")


def test_options_with_a_token_describes_the_view_without_its_body(api_client, admin_auth):
    response = api_client.options("/api/v1/users/me", **admin_auth)

    assert response.status_code == 200
    assert "actions" not in response.json()
    assert "PUT" in response["Allow"]
