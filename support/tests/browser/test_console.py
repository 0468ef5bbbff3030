"""The operators' console in a real browser: log in (with and without MFA), read
the dashboard, run the account and key actions, change a balance and open a
conversation; each effect is then checked where it counts, through the API."""

import base64
from urllib.parse import urlsplit

import pyotp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import ME_URL, PASSWORD, bearer, login
from apikeys.services import apikey_regenerate_primary
from apikeys.tests.helpers import use_key
from credits.models import CreditLedgerEntry
from credits.tests.factories import CreditAccountFactory
from messagelog.tests.factories import MessageLogFactory
from security.models import AuditAction
from security.tests.helpers import audit_row
from support.tests.browser.helpers import ADMIN_PASSWORD, log_in, run_action, submit_login

USERS = "/admin/accounts/user/"
CREDITS = "/admin/credits/creditaccount/"
KEYS = "/admin/apikeys/apikey/"
LOG = "/admin/messagelog/messagelog/"


def _expect_dashboard(page: Page) -> None:
    dashboard = page.locator("#admin-dashboard")
    expect(dashboard.get_by_role("heading", name="Platform", exact=True)).to_be_visible()
    expect(dashboard.locator("figure.dashboard-chart svg").first).to_be_visible()


def test_password_login_shows_the_dashboard(page, operator):
    log_in(page, operator.username)

    _expect_dashboard(page)


def test_login_with_mfa_asks_for_the_code_and_shows_the_dashboard(page, operator, settings):
    settings.ADMIN_REQUIRE_MFA = True
    device = TOTPDevice.objects.create(user=operator, name="authenticator", confirmed=True)
    code = pyotp.TOTP(base64.b32encode(device.bin_key).decode()).now()

    page.goto("/admin/login/?next=/admin/")
    page.fill("input[name=username]", operator.username)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.fill("input[name=otp_token]", code)
    submit_login(page)
    # The password is right: the form now lists the account's devices to choose from.
    expect(page.locator(".errornote, .errorlist")).to_contain_text("Please select a device.")
    page.select_option("select[name=otp_device]", label=device.name)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.fill("input[name=otp_token]", code)
    submit_login(page)
    page.wait_for_url(lambda url: urlsplit(url).path == "/admin/")

    _expect_dashboard(page)


def test_suspend_ends_the_session_and_activate_lets_the_user_back_in(console, api_client):
    member = UserFactory(username="member")
    old_access = login(api_client, member.email)["access_token"]
    assert api_client.get(ME_URL, **bearer(old_access)).status_code == 200

    run_action(console, USERS, "suspend_users", member.pk)
    expect(console.locator(".messagelist .success")).to_contain_text("1 account(s) set to")
    suspended = api_client.get(ME_URL, **bearer(old_access)).status_code
    member.refresh_from_db()
    assert (member.status, suspended) == (User.Status.SUSPENDED, 401)

    run_action(console, USERS, "activate_users", member.pk)
    expect(console.locator(".messagelist .success")).to_contain_text("1 account(s) set to")
    new_access = login(api_client, member.email, PASSWORD)["access_token"]

    assert api_client.get(ME_URL, **bearer(old_access)).status_code == 401
    assert api_client.get(ME_URL, **bearer(new_access)).status_code == 200


def test_balance_change_from_the_credit_account_page(console, operator, api_client):
    member = UserFactory(username="member")
    account = CreditAccountFactory(user=member, main_credits=10, conversation_limit=5)

    console.goto(f"{CREDITS}{account.pk}/change/")
    console.fill("input[name=main_credits]", "75")
    console.fill("input[name=conversation_limit]", "40")
    console.fill("input[name=reason]", "goodwill after the outage")
    with console.expect_navigation():
        console.click("input[name=_save]")
    expect(console.locator(".messagelist .success")).to_be_visible()
    balance = api_client.get(
        "/api/v1/users/me/credits", **bearer(login(api_client, member.email)["access_token"])
    ).json()

    assert balance["credits"]["main"] == 75
    assert balance["limits"]["conversation_limit"] == 40
    entry = CreditLedgerEntry.objects.get(account=account)
    assert (entry.reason, entry.actor_id) == ("goodwill after the outage", operator.pk)


def test_revoked_key_is_refused_at_once(console, api_client):
    member = UserFactory(username="member")
    key = apikey_regenerate_primary(user=member, actor=member)
    assert use_key(api_client, key.clear).status_code == 200  # cached as valid

    run_action(console, KEYS, "revoke_keys", key.key.pk)
    expect(console.locator(".messagelist .success")).to_be_visible()

    assert use_key(api_client, key.clear).status_code == 401


def test_opening_a_conversation_shows_it_and_is_audited(console, operator):
    entry = MessageLogFactory(
        messages={
            "request": [{"role": "user", "content": "What is the capital of Peru?"}],
            "response": {"role": "assistant", "content": "Lima."},
        }
    )

    console.goto(LOG)
    with console.expect_navigation():
        console.click(f"a[href$='/messagelog/messagelog/{entry.pk}/change/']")

    expect(console.locator("pre")).to_contain_text("What is the capital of Peru?")
    expect(console.locator("pre")).to_contain_text("Lima.")
    assert audit_row(action=AuditAction.MESSAGE_LOG_READ, actor_id=operator.pk)


def test_an_operator_cannot_suspend_themselves(console, operator):
    run_action(console, USERS, "suspend_users", operator.pk)

    expect(console.locator(".messagelist .error")).to_contain_text(
        "Nothing changed: You may not suspend, demote or delete your own account"
    )
    operator.refresh_from_db()
    assert operator.status == User.Status.ACTIVE
    console.goto("/admin/")
    _expect_dashboard(console)
