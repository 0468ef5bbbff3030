"""The admin site's way out of a lockout or an IP block: HTML pages at its login, the
`unlock_account` and `unblock_ip` commands, and the firewall's exempt addresses."""

import io
from datetime import UTC

import pytest
from axes.models import AccessAttempt
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import assert_envelope
from security.lockout import user_locked_until
from security.models import IPBlock
from security.services.allowlist import allowlist_entry_create
from security.services.firewall import ip_block, ip_blocked_until
from security.tests.helpers import attempt, audit_row

ADMIN_LOGIN = "/admin/login/"
BLOCKED_IP = "198.51.100.23"


@pytest.fixture
def boss(db):
    return User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )


def _admin_login(client, password: str, ip: str):
    return client.post(ADMIN_LOGIN, {"username": "boss", "password": password}, REMOTE_ADDR=ip)


def _lock_out_boss(client) -> None:
    for number in range(5):  # from several addresses, so no IP block interferes
        _admin_login(client, "nope", f"10.0.0.{number}")


# ----- pages at the admin login -------------------------------------------------------


def test_a_locked_account_sees_a_page_with_the_unlock_time_at_the_admin_login(client, boss):
    _lock_out_boss(client)

    page = _admin_login(client, "BossPass12345", "10.0.1.1")

    assert page.status_code == 423
    assert page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    until = user_locked_until(boss).astimezone(UTC)
    assert "Account locked" in text and until.strftime("%Y-%m-%d %H:%M:%S") in text
    assert "User management" in text  # the admin's own header
    assert int(page["Retry-After"]) > 0


def test_the_api_login_still_answers_the_lockout_in_json(api_client, client, boss):
    _lock_out_boss(client)

    response = attempt(api_client, "boss", "BossPass12345", REMOTE_ADDR="10.0.1.2")

    body = assert_envelope(response, 423, "ACCOUNT_LOCKED")
    assert body["locked_until"]


def test_a_blocked_address_sees_a_page_with_the_unlock_time_at_the_admin(client, boss):
    block = ip_block(ip=BLOCKED_IP, reason="test", actor=None)

    login_page = client.get(ADMIN_LOGIN, REMOTE_ADDR=BLOCKED_IP)
    login_post = _admin_login(client, "BossPass12345", BLOCKED_IP)

    for page in (login_page, login_post):
        assert page.status_code == 403
        assert page["Content-Type"].startswith("text/html")
        text = page.content.decode()
        assert "Address blocked" in text
        assert block.blocked_until.strftime("%Y-%m-%d %H:%M:%S") in text
        assert int(page["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_a_blocked_address_still_gets_json_on_the_api(api_client, db):
    ip_block(ip=BLOCKED_IP, reason="test", actor=None)

    response = api_client.get("/api/v1/users/me", REMOTE_ADDR=BLOCKED_IP)

    assert_envelope(response, 403, "IP_BLOCKED")


# ----- unlock_account -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["boss", "BOSS", "Boss@Example.com"])
def test_unlock_account_lets_a_locked_admin_log_in_again(client, boss, name):
    _lock_out_boss(client)
    out = io.StringIO()

    call_command("unlock_account", name, stdout=out)

    assert "Unlocked boss" in out.getvalue()
    assert user_locked_until(boss) is None
    assert not AccessAttempt.objects.exists()
    assert _admin_login(client, "BossPass12345", "10.0.1.3").status_code == 302
    row = audit_row(action="account.unlock", target_id=str(boss.pk))
    assert row.actor_id is None and row.actor_kind == "system"


def test_unlock_account_says_when_the_account_was_not_locked(boss):
    out = io.StringIO()

    call_command("unlock_account", "boss", stdout=out)

    assert "was not locked" in out.getvalue()


def test_unlock_account_refuses_an_unknown_account(db):
    with pytest.raises(CommandError, match="No account"):
        call_command("unlock_account", "nobody")


# ----- unblock_ip -----------------------------------------------------------------------


def test_unblock_ip_lifts_the_block_and_the_address_reaches_the_admin_again(client, boss):
    block = ip_block(ip=BLOCKED_IP, reason="test", actor=None)
    out = io.StringIO()

    call_command("unblock_ip", BLOCKED_IP, stdout=out)

    assert f"Lifted 1 block(s) of {BLOCKED_IP}" in out.getvalue()
    block.refresh_from_db()
    assert block.lifted_at is not None and block.lifted_by_id is None
    assert ip_blocked_until(BLOCKED_IP) is None
    assert client.get(ADMIN_LOGIN, REMOTE_ADDR=BLOCKED_IP).status_code == 200
    row = audit_row(action="ip.unblock", target_id=str(block.pk))
    assert row.actor_id is None and row.actor_kind == "system"


def test_unblock_ip_clears_the_failure_count_of_the_address(api_client, db):
    UserFactory(username="ada")
    for _ in range(4):  # one short of a block
        attempt(api_client, "ada", "wrong", REMOTE_ADDR=BLOCKED_IP)
    ip_block(ip=BLOCKED_IP, reason="test", actor=None)

    call_command("unblock_ip", BLOCKED_IP, stdout=io.StringIO())
    attempt(api_client, "ada", "wrong", REMOTE_ADDR=BLOCKED_IP)

    assert ip_blocked_until(BLOCKED_IP) is None  # the count started again


def test_unblock_ip_refuses_an_address_that_is_not_blocked(db):
    with pytest.raises(CommandError, match="is not blocked"):
        call_command("unblock_ip", BLOCKED_IP)


def test_unblock_ip_refuses_what_is_not_an_address(db):
    with pytest.raises(CommandError, match="not an IP address"):
        call_command("unblock_ip", "not-an-ip")


# ----- exempt addresses -----------------------------------------------------------------


def _fail_five_times(api_client, ip: str) -> None:
    UserFactory(username="ada")
    for _ in range(5):  # an unknown name: its lockout is not ada's
        attempt(api_client, "ghost", "wrong", REMOTE_ADDR=ip)


@pytest.mark.parametrize("ip", ["127.0.0.1", "::1"])
def test_loopback_is_blocked_unless_exempt(api_client, db, settings, ip):
    settings.FIREWALL_EXEMPT_LOOPBACK = False
    _fail_five_times(api_client, ip)

    assert ip_blocked_until(ip) is not None


@pytest.mark.parametrize("ip", ["127.0.0.1", "::1"])
def test_exempt_loopback_is_never_blocked_nor_refused(api_client, db, settings, ip):
    settings.FIREWALL_EXEMPT_LOOPBACK = True
    _fail_five_times(api_client, ip)
    ip_block(ip=ip, reason="recorded before the exemption", actor=None)

    response = attempt(api_client, "ada", DEFAULT_PASSWORD, REMOTE_ADDR=ip)

    assert response.status_code == 200, response.json()
    assert IPBlock.objects.filter(ip_address=ip).count() == 1  # the manual one only
    assert ip_blocked_until(ip) is None


def test_exempt_loopback_does_not_exempt_other_addresses(api_client, db, settings):
    settings.FIREWALL_EXEMPT_LOOPBACK = True
    _fail_five_times(api_client, BLOCKED_IP)

    assert ip_blocked_until(BLOCKED_IP) is not None


def test_allowlisted_address_is_blocked_unless_exempt(api_client, db, settings):
    settings.FIREWALL_EXEMPT_ALLOWLISTED = False
    allowlist_entry_create(network="198.51.100.0/24", expires_at=None, actor=UserFactory())
    _fail_five_times(api_client, BLOCKED_IP)

    assert ip_blocked_until(BLOCKED_IP) is not None


def test_exempt_allowlisted_address_is_never_blocked_nor_refused(client, boss, settings):
    settings.FIREWALL_EXEMPT_ALLOWLISTED = True
    allowlist_entry_create(network="198.51.100.0/24", expires_at=None, actor=UserFactory())
    for _ in range(5):
        client.post(ADMIN_LOGIN, {"username": "nobody", "password": "x"}, REMOTE_ADDR=BLOCKED_IP)

    page = _admin_login(client, "BossPass12345", BLOCKED_IP)

    assert not IPBlock.objects.exists()
    assert page.status_code == 302


def test_exempt_allowlist_does_not_cover_an_address_off_the_list(api_client, db, settings):
    settings.FIREWALL_EXEMPT_ALLOWLISTED = True
    allowlist_entry_create(network="203.0.113.0/24", expires_at=None, actor=UserFactory())
    _fail_five_times(api_client, BLOCKED_IP)

    assert ip_blocked_until(BLOCKED_IP) is not None


@pytest.mark.parametrize(
    ("blocked", "given"),
    [
        ("2001:db8::1", "2001:DB8:0:0::7"),  # the same /64, which the block covers
        ("203.0.113.9", "::ffff:203.0.113.9"),
    ],
)
def test_unblock_ip_frees_the_address_whichever_form_of_its_network_is_given(
    client, boss, blocked, given
):
    ip_block(ip=blocked, reason="test", actor=None)
    assert ip_blocked_until(given) is not None  # the block holds for the given address

    out = io.StringIO()
    call_command("unblock_ip", given, stdout=out)

    assert "Lifted 1 block(s)" in out.getvalue()
    assert ip_blocked_until(given) is None and ip_blocked_until(blocked) is None
