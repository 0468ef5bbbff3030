from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import ME_URL, assert_envelope, bearer, login
from security.models import AuditLog, IPAllowlistEntry, SecurityEvent
from security.tests.factories import IPAllowlistEntryFactory
from security.tests.helpers import audit_row, platform_admin_auth

OFFICE = "192.168.1.100"


@pytest.fixture
def admin_auth(api_client, db):
    return platform_admin_auth(api_client)


def test_create_list_delete_entry_with_documented_body(api_client, admin_auth):
    created = api_client.post(
        "/v1/admin-panel/ip-whitelist",
        {
            "ip_address": OFFICE,
            "description": "Office network",
            "expires_at": "2099-12-31T23:59:59Z",
        },
        format="json",
        **admin_auth,
    )
    listed = api_client.get("/v1/admin-panel/ip-whitelist", **admin_auth).json()
    deleted = api_client.delete(
        f"/v1/admin-panel/ip-whitelist/{created.json()['id']}", **admin_auth
    )

    assert created.status_code == 201
    assert created.json()["ip_address"] == OFFICE
    assert [entry["description"] for entry in listed["results"]] == ["Office network"]
    assert deleted.status_code == 200
    assert not IPAllowlistEntry.objects.exists()
    assert audit_row(action="ip_allowlist.create")
    assert audit_row(action="ip_allowlist.delete")
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"ip_allowlist.create", "ip_allowlist.delete"} <= actions


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"ip_address": "999.1.1.1"}, "INVALID_NETWORK"),
        ({"ip_address": "10.0.0.0/33"}, "INVALID_NETWORK"),
        ({"ip_address": "10.0.0.1", "expires_at": "2000-01-01T00:00:00Z"}, "INVALID_EXPIRY"),
        ({"description": "no address"}, "VALIDATION_ERROR"),
    ],
)
def test_invalid_entries_are_400(api_client, admin_auth, body, code):
    response = api_client.post("/v1/admin-panel/ip-whitelist", body, format="json", **admin_auth)

    assert_envelope(response, 400, code)


def _entry(network: str, **extra) -> IPAllowlistEntry:
    return IPAllowlistEntryFactory(network=network, **extra)


def test_enabled_allowlist_refuses_other_ips_on_staff_surfaces(
    api_client, admin_auth, client, settings
):
    _entry("10.9.9.0/24")
    settings.IP_WHITELIST_ENABLED = True

    inside = api_client.get("/v1/admin-panel/security-logs", **admin_auth)
    outside = api_client.get(
        "/v1/admin-panel/security-logs", **{**admin_auth, "REMOTE_ADDR": "203.0.113.1"}
    )
    admin_site = client.get("/admin/login/", REMOTE_ADDR="203.0.113.1")

    assert inside.status_code == 200
    assert_envelope(outside, 403, "IP_NOT_ALLOWLISTED")
    assert admin_site.status_code == 403
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PERMISSION_DENIED).exists()


def test_cidr_entry_covers_its_network_only(api_client, admin_auth, settings):
    _entry("10.9.0.0/16")
    settings.IP_WHITELIST_ENABLED = True

    statuses = [
        api_client.get("/v1/admin-panel/ip-blocks", **{**admin_auth, "REMOTE_ADDR": ip}).status_code
        for ip in ("10.9.200.1", "10.10.0.1")
    ]

    assert statuses == [200, 403]


def test_expired_entry_stops_counting_at_once(api_client, admin_auth, settings):
    _entry("10.9.9.9", expires_at=timezone.now() + timedelta(minutes=5))
    settings.IP_WHITELIST_ENABLED = True
    assert api_client.get("/v1/admin-panel/ip-blocks", **admin_auth).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = api_client.get("/v1/admin-panel/ip-blocks", **admin_auth)

    assert_envelope(response, 403, "IP_NOT_ALLOWLISTED")


def test_deleted_entry_stops_counting_at_once(api_client, admin_auth, settings):
    entry = _entry("10.9.9.9")
    settings.IP_WHITELIST_ENABLED = True
    assert api_client.get("/v1/admin-panel/ip-blocks", **admin_auth).status_code == 200

    api_client.delete(f"/v1/admin-panel/ip-whitelist/{entry.pk}", **admin_auth)

    assert api_client.get("/v1/admin-panel/ip-blocks", **admin_auth).status_code == 403


def test_ordinary_api_is_not_affected(api_client, db, settings):
    settings.IP_WHITELIST_ENABLED = True
    user = UserFactory()

    tokens = login(api_client, user.email, REMOTE_ADDR="203.0.113.1")
    me = api_client.get(ME_URL, REMOTE_ADDR="203.0.113.1", **bearer(tokens["access_token"]))

    assert me.status_code == 200


def test_disabled_allowlist_lets_everyone_reach_staff_login(client, db, settings):
    settings.IP_WHITELIST_ENABLED = False

    assert client.get("/admin/login/", REMOTE_ADDR="203.0.113.1").status_code == 200
