"""Attacks on the support staff surface that the route-by-route tests do not cover."""

import pytest

from accounts.models import LoginSession
from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.helpers import assert_envelope, bearer
from accounts.tests.world import FOREIGN_IP
from security.models import SecurityEvent
from security.tests.factories import IPAllowlistEntryFactory
from support.tests.helpers import build_staff_world, staff_name

OFFICE = "10.1.2.3"


@pytest.fixture
def sw(db):
    return build_staff_world()


def _staff_auth_from(user, address: str) -> dict:
    pair = session_start(
        user=user, client=ClientInfo(address, "tests"), surface=LoginSession.Surface.SUPPORT
    )
    return {**bearer(pair.access), "REMOTE_ADDR": address}


# ----- IP_WHITELIST_ENABLED -------------------------------------------------------------


@pytest.fixture
def allowlist_on(settings):
    settings.IP_WHITELIST_ENABLED = True
    IPAllowlistEntryFactory(network=OFFICE)


def test_the_ip_allowlist_holds_support_staff_powers_too(api_client, sw, allowlist_on):
    """Platform-wide staff reset passwords and read conversations in every tenant: a
    stolen staff password must not work from an address the allowlist leaves out."""
    staff = sw.staff[staff_name("advanced", "global")]
    member = sw.world.member
    abroad = _staff_auth_from(staff, FOREIGN_IP)

    listed = api_client.get("/v1/support/users", **abroad)
    reset = api_client.post(
        f"/v1/support/users/{member.pk}/reset-password",
        {"new_password": "Taken-Over-Pass-93"},
        format="json",
        **abroad,
    )
    edited = api_client.put(
        f"/v1/support/users/{member.pk}", {"name": "Taken Over"}, format="json", **abroad
    )

    assert_envelope(listed, 403, "IP_NOT_ALLOWLISTED")
    assert_envelope(reset, 403, "IP_NOT_ALLOWLISTED")
    assert_envelope(edited, 403, "IP_NOT_ALLOWLISTED")
    member.refresh_from_db()
    assert member.check_password(DEFAULT_PASSWORD)
    assert member.name != "Taken Over"
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.PERMISSION_DENIED,
        user_id=staff.pk,
        details__reason="ip_not_allowlisted",
    ).exists()

    at_the_office = api_client.get("/v1/support/users", **_staff_auth_from(staff, OFFICE))
    assert at_the_office.status_code == 200, at_the_office.content


def test_without_the_allowlist_support_staff_work_from_anywhere(api_client, sw):
    staff = sw.staff[staff_name("advanced", "global")]

    response = api_client.get("/v1/support/users", **_staff_auth_from(staff, FOREIGN_IP))

    assert response.status_code == 200, response.content


# ----- ADMIN_REQUIRE_MFA --------------------------------------------------------------


def test_mfa_required_holds_support_staff_powers_too(api_client, sw, settings):
    """With ADMIN_REQUIRE_MFA, staff power over other accounts needs a login that
    passed MFA, for support staff as for platform admins."""
    settings.ADMIN_REQUIRE_MFA = True
    staff = sw.staff[staff_name("support", "global")]
    member = sw.world.member
    client = ClientInfo("127.0.0.1", "tests")
    password_only = bearer(
        session_start(user=staff, client=client, surface=LoginSession.Surface.SUPPORT).access
    )
    with_mfa = bearer(
        session_start(
            user=staff, client=client, surface=LoginSession.Surface.SUPPORT, mfa_verified=True
        ).access
    )

    refused = api_client.post(
        f"/v1/support/users/{member.pk}/reset-password",
        {"new_password": "Taken-Over-Pass-93"},
        format="json",
        **password_only,
    )
    own_profile = api_client.get("/v1/support/profile", **password_only)
    allowed = api_client.get("/v1/support/users", **with_mfa)

    assert_envelope(refused, 403, "MFA_REQUIRED")
    member.refresh_from_db()
    assert member.check_password(DEFAULT_PASSWORD)
    assert own_profile.status_code == 200
    assert allowed.status_code == 200, allowed.content
