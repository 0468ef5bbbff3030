"""What the console's browser tests share: logging in and running a changelist action."""

from urllib.parse import urlsplit

from playwright.sync_api import Page

ADMIN_PASSWORD = "ConsolePass12345"


def submit_login(page: Page) -> None:
    page.get_by_role("button", name="Log in", exact=True).click()


def log_in(page: Page, username: str, password: str = ADMIN_PASSWORD) -> None:
    """Log in on the console's form and land on its index (the dashboard)."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    submit_login(page)
    page.wait_for_url(lambda url: urlsplit(url).path == "/admin/")


def run_action(page: Page, changelist: str, action: str, *pks: int) -> None:
    """Tick the rows of `pks` on a changelist, choose `action` and press Go."""
    page.goto(changelist)
    for pk in pks:
        page.check(f"input[name=_selected_action][value='{pk}']")
    page.select_option("select[name=action]", action)
    with page.expect_navigation():
        page.click("button[name=index]")
