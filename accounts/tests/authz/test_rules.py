"""The authorization rules: role rank, and staff needing MFA (ADMIN_REQUIRE_MFA)."""

from accounts.authz.rules import role_rank
from accounts.models import Role
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    LOGIN_URL,
    PASSWORD,
    assert_envelope,
    bearer,
    enrol,
    login,
)


def test_admin_require_mfa_refuses_staff_api_without_mfa(api_client, db, settings):
    settings.ADMIN_REQUIRE_MFA = True
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    auth = bearer(login(api_client, "boss")["access_token"])

    response = api_client.get("/v1/admin-panel/security-logs", **auth)

    body = assert_envelope(response, 403)
    assert "MFA" in body["message"]


def test_admin_require_mfa_allows_staff_after_mfa(api_client, db, settings):

    settings.ADMIN_REQUIRE_MFA = True
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    _, codes = enrol(api_client, boss)
    token = api_client.post(
        LOGIN_URL, {"email": "boss", "password": PASSWORD}, format="json"
    ).json()["mfa_token"]
    access = api_client.post(
        "/api/v1/auth/mfa/verify", {"mfa_token": token, "code": codes[0]}, format="json"
    ).json()["access_token"]

    assert api_client.get("/v1/admin-panel/security-logs", **bearer(access)).status_code == 200


def test_role_rank_of_custom_roles():
    assert role_rank(Role(name="x", permissions=["read:models"])) == 0
    assert role_rank(Role(name="x", permissions=["write:models"])) == 1
    assert role_rank(Role(name="x", permissions=["write:users"])) == 2
    assert role_rank(Role(name="x", permissions=["manage:roles"])) == 3
