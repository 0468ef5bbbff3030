"""The staff rules (ADMIN_REQUIRE_MFA, IP_WHITELIST_ENABLED) on every way to staff power.

The access matrix holds the API routes; here are the paths it cannot show: the
Django admin, a refusal raised inside a service's transaction, API keys, one's own
keys, and the operators' paths without a request.
"""

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.authz.roles import BuiltinRole
from accounts.models import User
from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import REFRESH_URL, assert_envelope, bearer
from accounts.tests.world import FOREIGN_IP, build_world, builtin
from apikeys.models import APIKey
from apikeys.services import apikey_create
from security.models import SecurityEvent
from security.tests.factories import IPAllowlistEntryFactory
from tenants.models import Tenant
from tenants.services import tenant_create

OFFICE = "10.1.2.3"


@pytest.fixture
def staff_rules_on(db, settings):
    settings.ADMIN_REQUIRE_MFA = True
    settings.IP_WHITELIST_ENABLED = True
    IPAllowlistEntryFactory(network=OFFICE)


def _session_auth(user: User, *, mfa: bool) -> dict:
    pair = session_start(user=user, client=ClientInfo(OFFICE, "tests"), mfa_verified=mfa)
    return {**bearer(pair.access), "REMOTE_ADDR": OFFICE}


def _refusal_recorded(user: User, rule: str) -> bool:
    return SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.PERMISSION_DENIED, user_id=user.pk, details__reason=rule
    ).exists()


# ----- the Django admin -------------------------------------------------------------------


def _admin_session(client, *, otp_verified: bool) -> User:
    boss = User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )
    client.force_login(boss)
    if otp_verified:
        device = TOTPDevice.objects.create(user=boss, name="phone", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return boss


def test_admin_site_sends_a_session_without_otp_back_to_the_login(client, staff_rules_on):
    _admin_session(client, otp_verified=False)
    victim = UserFactory()

    pages = [
        client.get(path, REMOTE_ADDR=OFFICE)
        for path in (
            "/admin/",
            "/admin/accounts/user/",
            f"/admin/accounts/user/{victim.pk}/change/",
        )
    ]
    action = client.post(
        "/admin/accounts/user/",
        {"action": "suspend_users", "_selected_action": [victim.pk]},
        REMOTE_ADDR=OFFICE,
    )

    assert all(page.status_code == 302 and "/admin/login/" in page["Location"] for page in pages)
    assert action.status_code == 302 and "/admin/login/" in action["Location"]
    victim.refresh_from_db()
    assert victim.status == User.Status.ACTIVE


def test_admin_site_refuses_a_foreign_address_even_after_otp(client, staff_rules_on):
    _admin_session(client, otp_verified=True)

    inside = client.get("/admin/accounts/user/", REMOTE_ADDR=OFFICE)
    outside = [
        client.get(path, REMOTE_ADDR=FOREIGN_IP)
        for path in ("/admin/", "/admin/accounts/user/", "/admin/login/")
    ]

    assert inside.status_code == 200
    for response in outside:
        assert_envelope(response, 403, "IP_NOT_ALLOWLISTED")


def test_admin_site_actions_of_a_verified_admin_use_staff_power(client, staff_rules_on):
    """The services behind an admin action see the OTP-verified session as the
    credential, as an API call's services see its token."""
    _admin_session(client, otp_verified=True)
    world = build_world()

    response = client.post(
        "/admin/accounts/user/",
        {"action": "make_moderators", "_selected_action": [world.member.pk]},
        REMOTE_ADDR=OFFICE,
        follow=True,
    )

    assert response.status_code == 200
    assert "Nothing changed" not in response.content.decode()
    world.member.refresh_from_db()
    assert world.member.role.name == BuiltinRole.MODERATOR


# ----- a refusal inside a service ----------------------------------------------------------


def test_admin_without_mfa_cannot_create_a_user_in_a_tenant(api_client, staff_rules_on):
    """user_create_by_admin asks for staff power inside its transaction: the refusal
    still answers with its code and leaves its security event, and nothing is made."""
    world = build_world()
    admin = world.users["platform_admin"]
    body = {
        "email": "planted@example.com",
        "username": "planted",
        "password": "SecurePass123",
        "tenant_id": world.tenant_b.pk,
        "role": "admin",
    }

    refused = api_client.post(
        "/api/v1/users", body, format="json", **_session_auth(admin, mfa=False)
    )
    allowed = api_client.post(
        "/api/v1/users", body, format="json", **_session_auth(admin, mfa=True)
    )

    assert_envelope(refused, 403, "MFA_REQUIRED")
    assert _refusal_recorded(admin, "mfa_required")
    assert allowed.status_code == 201
    assert User.objects.get(username="planted").tenant_id == world.tenant_b.pk


def test_admin_without_mfa_cannot_create_a_tenant(api_client, staff_rules_on):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True, role=builtin("admin"))

    response = api_client.post(
        "/api/v1/tenants",
        {
            "name": "Initech",
            "admin_email": "boss@initech.example",
            "admin_username": "initech_admin",
            "admin_password": "AdminPass123",
        },
        format="json",
        **_session_auth(admin, mfa=False),
    )

    assert_envelope(response, 403, "MFA_REQUIRED")
    assert not Tenant.objects.exists()
    assert _refusal_recorded(admin, "mfa_required")


def test_mfa_of_a_session_outlives_its_token_refresh(api_client, staff_rules_on):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True, role=builtin("admin"))
    pair = session_start(user=admin, client=ClientInfo(OFFICE, "tests"), mfa_verified=True)

    refreshed = api_client.post(
        REFRESH_URL, {"refresh_token": pair.refresh}, format="json", REMOTE_ADDR=OFFICE
    ).json()
    response = api_client.get(
        "/v1/admin-panel/security-logs",
        REMOTE_ADDR=OFFICE,
        **bearer(refreshed["access_token"]),
    )

    assert response.status_code == 200


# ----- API keys -----------------------------------------------------------------------------


COMPLETIONS = "/v1/prompt/completions"
PROMPT = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("require_mfa", [False, True])
def test_api_key_of_a_platform_admin_never_carries_staff_power(
    api_client, db, settings, require_mfa
):
    """A superuser whose role does not allow model use reaches the models only by
    staff power, which a request made with a key never has, whatever ADMIN_REQUIRE_MFA
    says: the key acts as an ordinary account's."""
    settings.ADMIN_REQUIRE_MFA = require_mfa
    root = UserFactory(username="root", is_staff=True, is_superuser=True, role=None)
    key = apikey_create(user=root, name="ci", actor=root).clear

    response = api_client.post(COMPLETIONS, PROMPT, format="json", HTTP_X_API_KEY=key)

    assert_envelope(response, 403, "PERMISSION_DENIED")


def test_api_key_of_a_platform_admin_still_does_what_its_role_allows(api_client, db, settings):
    settings.ADMIN_REQUIRE_MFA = True
    root = UserFactory(username="root", is_staff=True, is_superuser=True, role=builtin("admin"))
    key = apikey_create(user=root, name="ci", actor=root).clear

    response = api_client.post(COMPLETIONS, PROMPT, format="json", HTTP_X_API_KEY=key)

    assert response.status_code == 200, response.content[:400]


def test_admin_without_mfa_keeps_their_own_keys(api_client, staff_rules_on):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True, role=builtin("admin"))
    auth = _session_auth(admin, mfa=False)
    first = apikey_create(user=admin, name="first", actor=admin).key
    second = apikey_create(user=admin, name="second", actor=admin).key

    shown = api_client.get(f"/api/v1/api-keys/{first.pk}", **auth)
    rotated = api_client.post(f"/api/v1/api-keys/{first.pk}/rotate", **auth)
    revoked = api_client.delete(f"/api/v1/api-keys/{second.pk}", **auth)

    assert [shown.status_code, rotated.status_code, revoked.status_code] == [200, 200, 200]
    assert APIKey.objects.get(pk=second.pk).revoked_at is not None


# ----- no request: the operators' own paths --------------------------------------------------


def test_services_without_a_request_keep_staff_power(staff_rules_on):
    """Management commands and Celery tasks run services with no request: trusted."""
    admin = UserFactory(username="root", is_staff=True, is_superuser=True, role=builtin("admin"))

    tenant, tenant_admin = tenant_create(
        actor=admin,
        data={
            "name": "Initech",
            "admin_email": "boss@initech.example",
            "admin_username": "initech_admin",
            "admin_password": "AdminPass123",
        },
    )

    assert tenant_admin.tenant_id == tenant.pk
