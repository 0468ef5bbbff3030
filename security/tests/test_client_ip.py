"""One client address for sessions, firewall and audit; IPv4-mapped and IPv6 /64 clients."""

import pytest
import time_machine
from django.utils import timezone

from accounts.models import LoginSession
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import ME_URL, assert_envelope, login
from security.client_ip import client_ip, ip_limit_key
from security.models import IPBlock, SecurityEvent
from security.services.firewall import ip_block
from security.tests.helpers import attempt, platform_admin_auth


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(timezone.now(), tick=False):
        yield


def test_a_login_session_records_the_client_behind_a_trusted_proxy(api_client, db, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    user = UserFactory()

    tokens = login(
        api_client, user.email, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7"
    )

    assert LoginSession.objects.get(pk=tokens["session_id"]).ip_address == "198.51.100.7"


def test_a_login_session_ignores_forwarded_for_from_anyone_else(api_client, db):
    user = UserFactory()

    tokens = login(
        api_client, user.email, REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="198.51.100.7"
    )

    assert LoginSession.objects.get(pk=tokens["session_id"]).ip_address == "192.0.2.9"


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        ([], "::ffff:192.0.2.1", "", "192.0.2.1"),
        (["10.0.0.0/8"], "::ffff:10.0.0.1", "::ffff:198.51.100.2", "198.51.100.2"),
        ([], "2001:DB8:0:0::1", "", "2001:db8::1"),
    ],
)
def test_client_ip_names_ipv4_mapped_addresses_as_ipv4(
    rf, settings, trusted, remote, forwarded, expected
):
    settings.TRUSTED_PROXIES = trusted
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_a_mapped_address_is_one_client_with_its_ipv4_form(api_client, db):
    user = UserFactory()
    for number in range(5):
        attempt(api_client, f"nobody{number}", "WrongPass999", REMOTE_ADDR="::ffff:192.0.2.30")

    blocked = api_client.get(ME_URL, REMOTE_ADDR="192.0.2.30")

    assert_envelope(blocked, 403, "IP_BLOCKED")
    assert IPBlock.objects.get().ip_address == "192.0.2.30"
    with pytest.raises(AssertionError):
        login(api_client, user.email, REMOTE_ADDR="::ffff:192.0.2.30")


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::ffff", "2001:db8:1:2::/64"),
        ("192.0.2.1", "192.0.2.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
    ],
)
def test_budgets_and_blocks_count_ipv6_by_its_64(ip, key):
    assert ip_limit_key(ip) == key


def test_failed_logins_across_one_ipv6_64_block_the_whole_64(api_client, db):
    for number in range(5):
        attempt(
            api_client, f"nobody{number}", "WrongPass999", REMOTE_ADDR=f"2001:db8:5:6::{number + 1}"
        )

    same_64 = api_client.get(ME_URL, REMOTE_ADDR="2001:db8:5:6:ffff::9")
    next_64 = api_client.get(ME_URL, REMOTE_ADDR="2001:db8:5:7::1")

    assert_envelope(same_64, 403, "IP_BLOCKED")
    assert next_64.status_code == 401
    assert IPBlock.objects.get().ip_address == "2001:db8:5:6::5"
    recorded = set(SecurityEvent.objects.values_list("ip_address", flat=True))
    assert "2001:db8:5:6::1" in recorded


def test_the_request_budget_of_an_ipv6_client_is_its_64s(api_client, db, settings):
    settings.FIREWALL_RATE_LIMIT = "4/m"

    statuses = [
        api_client.get(ME_URL, REMOTE_ADDR=f"2001:db8:9:9::{number + 1}").status_code
        for number in range(5)
    ]

    assert statuses == [401, 401, 401, 401, 429]
    assert api_client.get(ME_URL, REMOTE_ADDR="2001:db8:9:a::1").status_code == 401


def test_lifting_one_block_keeps_the_64_blocked_while_another_block_in_it_stands(api_client, db):
    auth = platform_admin_auth(api_client)
    for number in range(5):
        attempt(api_client, f"nobody{number}", "WrongPass999", REMOTE_ADDR="2001:db8:7:7::1")
    first = IPBlock.objects.get()
    ip_block(ip="2001:db8:7:7::2", reason="blocked by staff", actor=None)

    lifted = api_client.delete(f"/v1/admin-panel/ip-blocks/{first.pk}", **auth)

    assert lifted.status_code == 200
    assert_envelope(api_client.get(ME_URL, REMOTE_ADDR="2001:db8:7:7::3"), 403, "IP_BLOCKED")
