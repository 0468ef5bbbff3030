"""A real Chromium driving the operators' console (the Django admin at /admin/)
served by pytest-django's live server, through Playwright's sync API.

Playwright never downloads a browser here: the system's `chromium` is used
(`apt-get install chromium`); without it the tests skip, which FAIL_ON_SKIP=1 (CI)
turns into a failed run. Any JavaScript error or console error on a page fails
the test that opened it.
"""

import os
import shutil
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, Page, expect, sync_playwright

from support.tests.browser.helpers import ADMIN_PASSWORD, log_in

RENDER_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def _async_unsafe() -> Iterator[None]:
    """Playwright's sync API keeps an event loop in the test's thread, so Django's
    guard would refuse every ORM call the test (and its fixtures) make meanwhile."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_async_unsafe) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    # Chromium's sandbox refuses to start as root (the CI machine runs as root).
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=args)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A fresh browser context on the live server; its JavaScript and console errors
    are collected and must be none when the test ends."""
    context = browser.new_context(base_url=live_server.url)
    # Pages render in the browser (ReDoc builds the whole document there): on a busy
    # machine that takes longer than Playwright's default 5 s. A wait that succeeds
    # ends at once, so a long limit costs a passing run nothing.
    context.set_default_timeout(RENDER_TIMEOUT_MS)
    expect.set_options(timeout=RENDER_TIMEOUT_MS)
    # Chromium asks every site for /favicon.ico on its own and logs the 404 as a
    # console error; the console's pages link no icon, so answer it empty.
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(f"{opened.url}: {error}"))
    opened.on(
        "console",
        lambda message: (
            errors.append(f"{opened.url}: console: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    try:
        yield opened
    finally:
        context.close()
    assert errors == [], "JavaScript or console errors on the page"


@pytest.fixture
def operator(transactional_db):
    """A superuser who logs in to the console with a password."""
    return get_user_model().objects.create_superuser(
        username="operator", email="operator@example.com", password=ADMIN_PASSWORD
    )


@pytest.fixture
def console(page: Page, operator) -> Page:
    """The page, with the operator logged in to the console."""
    log_in(page, operator.username)
    return page
