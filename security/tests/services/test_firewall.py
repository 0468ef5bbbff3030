from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import ME_URL, REGISTER_URL, assert_envelope
from security.client_ip import UNKNOWN_CLIENT, client_ip
from security.models import IPBlock, SecurityEvent
from security.tests.helpers import attempt, audit_row, platform_admin_auth

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 0.2,
            "SOCKET_TIMEOUT": 0.2,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}


@pytest.fixture(autouse=True)
def frozen_clock():
    """Rate windows are fixed minutes: a stopped clock keeps each test inside one."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


def test_sixty_first_request_in_a_minute_is_429(api_client, db):
    statuses = [api_client.get(ME_URL).status_code for _ in range(61)]

    assert statuses[:60] == [401] * 60
    response = api_client.get(ME_URL)
    assert_envelope(response, 429, "RATE_LIMITED")
    assert 0 < int(response["Retry-After"]) <= 60


def test_request_budget_is_per_ip(api_client, db):
    for _ in range(60):
        api_client.get(ME_URL)

    assert api_client.get(ME_URL, REMOTE_ADDR="192.0.2.44").status_code == 401


def test_request_budget_resets_next_minute(api_client, db):
    for _ in range(61):
        api_client.get(ME_URL)

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert api_client.get(ME_URL).status_code == 401


def test_health_and_metrics_are_never_throttled(api_client, db):
    statuses = {api_client.get("/health").status_code for _ in range(70)}

    assert statuses == {200}


def test_firewall_rate_follows_setting(api_client, db, settings):
    settings.FIREWALL_RATE_LIMIT = "3/m"

    statuses = [api_client.get(ME_URL).status_code for _ in range(4)]

    assert statuses == [401, 401, 401, 429]


@pytest.mark.parametrize("switch", ["FIREWALL_ENABLED", "RATELIMIT_ENABLE"])
def test_switches_turn_the_request_budget_off(api_client, db, settings, switch):
    setattr(settings, switch, False)

    statuses = {api_client.get(ME_URL).status_code for _ in range(65)}

    assert statuses == {401}


def test_five_failed_logins_block_the_ip_for_fifteen_minutes(api_client, db):
    for number in range(5):
        attempt(api_client, f"nobody{number}", "WrongPass999")

    blocked = api_client.get(ME_URL)
    other_ip = api_client.get(ME_URL, REMOTE_ADDR="192.0.2.80")

    body = assert_envelope(blocked, 403, "IP_BLOCKED")
    assert "blocked" in body["message"]
    assert 800 < int(blocked["Retry-After"]) <= 900
    assert other_ip.status_code == 401
    block = IPBlock.objects.get()
    assert block.ip_address == "127.0.0.1"
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.IP_BLOCKED)
    assert event.severity == "critical"
    assert audit_row(action="ip.block")


def test_blocked_ip_cannot_log_into_another_account(api_client, db):
    UserFactory(username="victim")
    for number in range(5):
        attempt(api_client, f"nobody{number}", "WrongPass999")

    assert_envelope(attempt(api_client, "victim", "SecurePass123"), 403, "IP_BLOCKED")


def test_ip_block_lifts_by_itself(api_client, db):
    for number in range(5):
        attempt(api_client, f"nobody{number}", "WrongPass999")

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = api_client.get(ME_URL)

    assert response.status_code == 401


def test_staff_list_and_lift_blocks(api_client, db):
    for number in range(5):
        attempt(api_client, f"nobody{number}", "WrongPass999", REMOTE_ADDR="198.51.100.9")
    auth = platform_admin_auth(api_client)

    listed = api_client.get("/v1/admin-panel/ip-blocks", **auth).json()
    block_id = listed["results"][0]["id"]
    lifted = api_client.delete(f"/v1/admin-panel/ip-blocks/{block_id}", **auth)

    assert listed["results"][0]["ip_address"] == "198.51.100.9"
    assert lifted.status_code == 200 and lifted.json()["active"] is False
    assert api_client.get(ME_URL, REMOTE_ADDR="198.51.100.9").status_code == 401
    assert api_client.get("/v1/admin-panel/ip-blocks", **auth).json()["results"] == []
    assert audit_row(action="ip.unblock", actor_label="platformadmin")


def test_lifting_unknown_block_is_404(api_client, db):
    auth = platform_admin_auth(api_client)

    assert_envelope(api_client.delete("/v1/admin-panel/ip-blocks/999", **auth), 404)


# ----- per-endpoint limits -----------------------------------------------------------


def test_login_limit_per_ip(api_client, db, settings):
    settings.RATELIMIT_LOGIN = "3/m"
    UserFactory(username="ada")

    statuses = [attempt(api_client, "ada", "SecurePass123").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_login_limit_per_account_reads_json_body(api_client, db, settings):
    settings.RATELIMIT_LOGIN_ACCOUNT = "2/m"
    UserFactory(username="ada")
    UserFactory(username="bob")

    ada = [attempt(api_client, "ADA", "SecurePass123").status_code for _ in range(3)]
    bob = attempt(api_client, "bob", "SecurePass123").status_code

    assert ada == [200, 200, 429]
    assert bob == 200


def test_register_limit_answers_429_envelope(api_client, db, settings):
    settings.RATELIMIT_REGISTER = "1/h"
    body = {"email": "a@example.com", "username": "aaa", "password": "SecurePass123"}
    api_client.post(REGISTER_URL, body, format="json")

    response = api_client.post(
        REGISTER_URL, {**body, "email": "b@example.com", "username": "bbb"}, format="json"
    )

    payload = assert_envelope(response, 429, "RATE_LIMITED")
    assert payload["retry_after_seconds"] > 0
    assert "Retry-After" in response
    assert not User.objects.filter(username="bbb").exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.RATE_LIMITED).exists()


def test_password_change_limit_is_per_user(api_client, db, settings):
    from accounts.tests.helpers import bearer, login

    settings.RATELIMIT_PASSWORD_CHANGE = "2/m"
    user = UserFactory()
    auth = bearer(login(api_client, user.email)["access_token"])
    wrong = {"current_password": "Nope12345", "new_password": "BrandNewPass456"}

    statuses = [
        api_client.post("/api/v1/auth/change-password", wrong, format="json", **auth).status_code
        for _ in range(3)
    ]

    assert statuses == [400, 400, 429]


def test_limits_fail_open_or_closed_when_the_cache_is_down(api_client, db, settings):
    UserFactory(username="ada")
    settings.CACHES = UNREACHABLE_REDIS

    login = attempt(api_client, "ada", "SecurePass123")
    register = api_client.post(
        REGISTER_URL,
        {"email": "n@example.com", "username": "newbie", "password": "SecurePass123"},
        format="json",
    )

    assert login.status_code == 200
    assert_envelope(register, 503, "RATE_LIMITER_UNAVAILABLE")
    assert not User.objects.filter(username="newbie").exists()


def test_ratelimit_enable_false_turns_endpoint_limits_off(api_client, db, settings):
    settings.RATELIMIT_ENABLE = False
    settings.RATELIMIT_LOGIN = "1/m"
    UserFactory(username="ada")

    statuses = {attempt(api_client, "ada", "SecurePass123").status_code for _ in range(3)}

    assert statuses == {200}


# ----- client IP ---------------------------------------------------------------------


def test_forged_forwarded_for_from_untrusted_peer_is_ignored(api_client, db):
    for number in range(5):
        attempt(
            api_client,
            f"nobody{number}",
            "WrongPass999",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{number}",
        )

    assert IPBlock.objects.get().ip_address == "127.0.0.1"
    assert set(SecurityEvent.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}
    assert api_client.get(ME_URL, HTTP_X_FORWARDED_FOR="203.0.113.200").status_code == 403


def test_forwarded_for_from_trusted_proxy_names_the_client(api_client, db, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    for number in range(5):
        attempt(
            api_client,
            f"nobody{number}",
            "WrongPass999",
            HTTP_X_FORWARDED_FOR="198.51.100.23, 10.1.2.3",
        )

    assert IPBlock.objects.get().ip_address == "198.51.100.23"
    assert api_client.get(ME_URL).status_code == 401
    assert api_client.get(ME_URL, HTTP_X_FORWARDED_FOR="198.51.100.23").status_code == 403


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        ([], "127.0.0.1", "1.2.3.4", "127.0.0.1"),
        (["127.0.0.1"], "127.0.0.1", "1.2.3.4", "1.2.3.4"),
        (["127.0.0.1"], "127.0.0.1", "1.2.3.4, 5.6.7.8", "5.6.7.8"),
        (["127.0.0.1", "5.6.7.0/24"], "127.0.0.1", "1.2.3.4, 5.6.7.8", "1.2.3.4"),
        (["127.0.0.1"], "127.0.0.1", "not-an-ip", UNKNOWN_CLIENT),
        (["127.0.0.1"], "127.0.0.1", "1.2.3.4, 203.0.113.9:4711", UNKNOWN_CLIENT),
        (["127.0.0.1"], "127.0.0.1", "", "127.0.0.1"),
        (["10.0.0.0/8"], "192.0.2.1", "1.2.3.4", "192.0.2.1"),
    ],
)
def test_client_ip_rules(rf, settings, trusted, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = trusted
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_a_staff_member_without_the_permission_cannot_lift_blocks_in_the_admin(client, db):
    from security.services.firewall import ip_block

    block = ip_block(ip="198.51.100.9", reason="test", actor=None)
    helper = UserFactory(is_staff=True)  # staff, but no permission on IP blocks
    client.force_login(helper)

    listed = client.get("/admin/security/ipblock/")
    client.post(
        "/admin/security/ipblock/", {"action": "lift_blocks", "_selected_action": [block.pk]}
    )

    assert listed.status_code == 403
    block.refresh_from_db()
    assert block.lifted_at is None


def test_staff_who_may_only_view_sessions_and_lockouts_cannot_revoke_or_unlock(client, db):
    from django.contrib.auth.models import Permission as DjangoPermission

    from accounts.models import LoginSession
    from accounts.services.sessions import ClientInfo, session_start
    from security.lockout import account_locked_until

    victim = UserFactory()
    session_id = session_start(user=victim, client=ClientInfo("198.51.100.1", "test")).session_id
    for _ in range(settings.MAX_FAILED_LOGIN_ATTEMPTS):
        # From another address than the staff member's, whom a block would stop.
        Client(REMOTE_ADDR="203.0.113.50").post(
            "/api/v1/auth/login",
            {"username": victim.username, "password": "wrong-password"},
            content_type="application/json",
        )
    assert account_locked_until(victim.username) is not None
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        *DjangoPermission.objects.filter(codename__in=["view_loginsession", "view_accessattempt"])
    )
    client.force_login(viewer)

    sessions_page = client.get("/admin/accounts/loginsession/")
    client.post(
        "/admin/accounts/loginsession/",
        {"action": "revoke_sessions", "_selected_action": [session_id]},
    )
    attempts = AccessAttempt.objects.values_list("pk", flat=True)
    client.post(
        "/admin/axes/accessattempt/",
        {"action": "unlock_accounts", "_selected_action": list(attempts)},
    )

    assert sessions_page.status_code == 200
    assert "revoke_sessions" not in sessions_page.content.decode()
    assert LoginSession.objects.get(pk=session_id).revoked_at is None
    assert account_locked_until(victim.username) is not None
