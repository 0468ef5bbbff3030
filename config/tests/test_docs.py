"""The documentation in docs/ stays true to the service: every page is on the site,
every API path it names exists, and the site builds with nothing loaded from outside."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from rest_framework.test import APIClient

ROOT = Path(settings.BASE_DIR)
DOCS = ROOT / "docs"
# Pages another change fills in; until then they name no route and are skipped.
PLACEHOLDER_MARK = "<!-- placeholder"

# A path of the service as written in prose, tables or curl lines: `/api/...` or
# `/v1/...`, placeholders such as `{id}` allowed. A preceding letter or slash means a
# different path (another site's URL), so it is not taken.
_PATH = re.compile(r"(?<![A-Za-z/_.-])(/(?:api/v1|v1)(?:/[A-Za-z0-9_{}.-]+)*/?)")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_METHOD_BEFORE = re.compile(r"\b(" + "|".join(_METHODS) + r")\s*`?\s*$")
# Mount points named as such ("the admin panel under `/v1/admin-panel`"); every route
# under them is still checked one by one.
_MOUNTS = {"/api/v1", "/v1", "/v1/users", "/v1/admin-panel", "/v1/support"}


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _nav_pages(nav) -> set[str]:
    found: set[str] = set()
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            found |= _nav_pages(value)
        else:
            found.add(value)
    return found


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from core.tests.cache import clear_cache

    with django_db_blocker.unblock():
        clear_cache()
        response = APIClient().get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _route_pattern(template: str) -> re.Pattern:
    parts = [
        "[^/]+" if re.fullmatch(r"\{[^}]+\}", part) else re.escape(part)
        for part in template.strip("/").split("/")
    ]
    return re.compile("/" + "/".join(parts))


def _mentions(text: str):
    """Each API path the text names, with the HTTP method written just before it and
    whether it is written as a prefix (`/v1/prompt/…`, `/v1/admin-panel/*`)."""
    for match in _PATH.finditer(text):
        path = match.group(1)
        if path.endswith("."):
            path = path[:-1]
        before = text[max(0, match.start() - 12) : match.start()]
        for prefix in ("http://127.0.0.1:8000", "http://127.0.0.1:8123"):
            before = before.removesuffix(prefix)
        method = _METHOD_BEFORE.search(before)
        is_prefix = text[match.end() :].startswith(("…", "*", "/…", "/*"))
        yield path.rstrip("/") or "/", method.group(1) if method else None, is_prefix


def test_every_page_is_in_the_site_navigation():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    in_nav = _nav_pages(config["nav"])
    pages = {page.relative_to(DOCS).as_posix() for page in _pages()}

    assert pages - in_nav == set(), "pages missing from mkdocs.yml's nav"
    assert in_nav - pages == set(), "nav entries without a page"


def test_every_api_path_named_in_the_docs_exists(schema):
    routes = {
        _route_pattern(template): {method.upper() for method in operations}
        for template, operations in schema["paths"].items()
    }
    checked, unknown = 0, []
    for page in _pages():
        text = page.read_text()
        if PLACEHOLDER_MARK in text:
            continue
        for path, method, is_prefix in _mentions(text):
            if path in _MOUNTS:
                continue
            checked += 1
            if is_prefix:
                if not any(template.startswith(path + "/") for template in schema["paths"]):
                    unknown.append((page.name, path + "/…"))
                continue
            # A literal route and a placeholder route may both match (`…/revoke-others`
            # and `…/{session_id}`): the methods of all of them count.
            matching = [found for pattern, found in routes.items() if pattern.fullmatch(path)]
            methods = set().union(*matching)
            if not matching:
                unknown.append((page.name, path))
            elif method is not None and method not in methods:
                unknown.append((page.name, f"{method} {path}"))

    assert checked > 100
    assert unknown == []


def test_the_route_check_catches_a_made_up_path(schema):
    made_up = "Call `POST /api/v1/users/me/horoscope` or `DELETE /v1/prompt/completions`."

    mentions = list(_mentions(made_up))
    routes = [_route_pattern(template) for template in schema["paths"]]

    assert mentions == [
        ("/api/v1/users/me/horoscope", "POST", False),
        ("/v1/prompt/completions", "DELETE", False),
    ]
    assert not any(pattern.fullmatch("/api/v1/users/me/horoscope") for pattern in routes)
    assert "delete" not in schema["paths"]["/v1/prompt/completions"]


# Every page of an endpoint group answers the same questions under the same headings.
ENDPOINT_GROUP_HEADINGS = (
    "Data structure",
    "Update endpoints",
    "Validation rules",
    "Privacy rules",
    "Access control",
)


def _endpoint_group_pages() -> list[Path]:
    return [
        *sorted((DOCS / "reference").glob("*.md")),
        DOCS / "profile.md",
        DOCS / "preferences.md",
        DOCS / "billing.md",
    ]


def test_every_endpoint_group_page_has_the_standard_headings():
    missing = [
        (page.relative_to(DOCS).as_posix(), heading)
        for page in _endpoint_group_pages()
        for heading in ENDPOINT_GROUP_HEADINGS
        if not re.search(rf"^## {heading}$", page.read_text(), re.M)
    ]
    assert missing == []


# The demo-data command's name (`seed_demo`) and its `--seed` option are not such words.
_SOURCE_WORDS = re.compile(r"(?<![-\w])seeds?\b|ai marketplace|product documents?", re.I)


def test_the_docs_speak_of_the_service_itself():
    texts = [*_pages(), ROOT / "mkdocs.yml", ROOT / "README.md", ROOT / "DEVELOPERS.md"]
    found = [
        (path.name, match.group(0))
        for path in texts
        for match in _SOURCE_WORDS.finditer(path.read_text())
    ]
    assert found == []


# Anything the browser would fetch from another host: scripts, stylesheets, fonts,
# images, frames, preconnects, CSS imports. Plain links (<a href>) fetch nothing.
_EXTERNAL_LOAD = re.compile(
    r"<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=[\"']?(?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//"
    r"|url\(\s*[\"']?(?:https?:)?//"
    r"|@import\s+[\"'](?:https?:)?//",
    re.I,
)


def test_the_site_builds_strictly_and_loads_nothing_from_outside(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr

    built = [*site.rglob("*.html"), *site.rglob("*.css")]
    assert len(list(site.rglob("*.html"))) >= len(_pages())
    outside = [
        (path.relative_to(site).as_posix(), match.group(0))
        for path in built
        for match in _EXTERNAL_LOAD.finditer(path.read_text(errors="replace"))
    ]
    assert outside == []
