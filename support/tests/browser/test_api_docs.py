"""The API documentation pages in a real browser: /docs (Swagger UI) and /redoc render
the service's own document and load everything from the service itself, no font,
script or validator from elsewhere."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect


def _origin(url: str) -> str:
    parts = urlsplit(url.removeprefix("blob:"))
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def requests(page: Page, transactional_db) -> list[str]:
    """Every URL the page's context asks for, data: URLs (inline) aside."""
    seen: list[str] = []

    def record(request: Request) -> None:
        if not request.url.startswith("data:"):
            seen.append(request.url)

    page.context.on("request", record)
    return seen


def _assert_only_the_service(requests: list[str], live_server) -> None:
    service = _origin(live_server.url)
    assert requests, "the page made no request at all"
    assert [url for url in requests if _origin(url) != service] == []


def _scroll_to(page: Page, locator, *, steps: int = 200) -> None:
    """Swagger UI renders a long list of operations only as it is scrolled into view."""
    for _ in range(steps):
        if locator.count():
            return
        page.mouse.wheel(0, 800)
        page.wait_for_timeout(50)


def test_swagger_ui_renders_the_document_from_the_service_alone(page, requests, live_server):
    page.goto("/docs")

    expect(page.locator(".opblock").first).to_be_visible()
    tenants = page.locator(".opblock-summary-path", has_text="/api/v1/tenants").first
    _scroll_to(page, tenants)
    expect(tenants).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert f"{live_server.url}/openapi.json" in requests
    _assert_only_the_service(requests, live_server)


def test_redoc_renders_the_document_from_the_service_alone(page, requests, live_server):
    page.goto("/redoc")

    expect(page.locator("[data-section-id^='tag/']").first).to_be_attached()
    expect(page.get_by_text("Create a tenant with its first admin").first).to_be_attached()
    page.wait_for_load_state("networkidle")
    assert f"{live_server.url}/openapi.json" in requests
    _assert_only_the_service(requests, live_server)
