"""What still stops a refresh token now that a refresh reads the account from the
cache every authenticated request reads: each test warms that cache first (a request
with the access token), then takes the right away through the service that does it.
"""

import pytest

from accounts.models import LoginSession, User
from accounts.services.passwords import password_replace
from accounts.services.sessions import session_revoke
from accounts.services.users import user_status_set
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import ME_URL, assert_envelope, bearer, login, post_refresh
from security.models import AuditAction, AuditLog
from tenants.models import Tenant
from tenants.services import tenant_set_active

REFRESH_URLS = ["/api/v1/auth/refresh", "/v1/users/refresh"]


@pytest.fixture
def warm(api_client, user):
    """A logged-in user whose session state and account are cached."""
    tokens = login(api_client, user.email)
    assert api_client.get(ME_URL, **bearer(tokens["access_token"])).status_code == 200
    return tokens


@pytest.fixture
def admin(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("url", REFRESH_URLS)
@pytest.mark.parametrize("status", [User.Status.SUSPENDED, User.Status.DELETED])
def test_an_account_taken_out_cannot_refresh(api_client, user, warm, admin, url, status):
    user_status_set(user=user, status=status, actor=admin)

    assert_envelope(post_refresh(api_client, warm["refresh_token"], url), 401, "INVALID_TOKEN")
    assert LoginSession.objects.get(pk=warm["session_id"]).revoked_at is not None


@pytest.mark.parametrize("url", REFRESH_URLS)
def test_a_password_change_ends_refreshing(api_client, user, warm, url):
    password_replace(
        user=user,
        actor=user,
        new_password="AnotherPass4567",
        action=AuditAction.USER_PASSWORD_CHANGE,
    )

    assert_envelope(post_refresh(api_client, warm["refresh_token"], url), 401, "INVALID_TOKEN")


@pytest.mark.parametrize("url", REFRESH_URLS)
def test_a_revoked_session_cannot_refresh(api_client, user, warm, url):
    session_revoke(
        session_id=warm["session_id"], reason=LoginSession.RevokeReason.REVOKED, actor=user
    )

    assert_envelope(post_refresh(api_client, warm["refresh_token"], url), 401, "INVALID_TOKEN")


@pytest.mark.parametrize("url", REFRESH_URLS)
def test_a_deactivated_tenant_member_cannot_refresh(api_client, admin, url):
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    member = UserFactory(tenant=tenant)
    tokens = login(api_client, member.email)
    assert api_client.get(ME_URL, **bearer(tokens["access_token"])).status_code == 200

    tenant_set_active(actor=admin, tenant=tenant, active=False)

    refused = post_refresh(api_client, tokens["refresh_token"], url)
    assert refused.status_code in (401, 403), refused.content[:300]


@pytest.mark.parametrize("url", REFRESH_URLS)
def test_reuse_after_rotation_revokes_the_session_and_is_audited(api_client, warm, url):
    rotated = post_refresh(api_client, warm["refresh_token"], url)
    assert rotated.status_code == 200

    assert_envelope(
        post_refresh(api_client, warm["refresh_token"], url), 401, "REFRESH_TOKEN_REUSED"
    )

    session = LoginSession.objects.get(pk=warm["session_id"])
    assert session.revoked_reason == LoginSession.RevokeReason.REFRESH_REUSE
    actions = list(
        AuditLog.objects.filter(target_id=warm["session_id"])
        .order_by("id")
        .values_list("action", flat=True)
    )
    # The routine rotation in between (same client) writes no audit row.
    assert actions == [AuditAction.SESSION_START, AuditAction.SESSION_REVOKE]
    body = rotated.json()
    newest = body.get("refresh_token") or body["session"]["refresh_token"]
    assert_envelope(post_refresh(api_client, newest, url), 401, "INVALID_TOKEN")


def test_a_refresh_answers_the_account_as_it_is_now(api_client, user, warm):
    """A profile change drops the cached copy: the refresh answer shows the new name."""
    auth = bearer(warm["access_token"])
    assert (
        api_client.patch(ME_URL, {"first_name": "Renamed"}, format="json", **auth).status_code
        == 200
    )

    refreshed = post_refresh(api_client, warm["refresh_token"])

    assert refreshed.status_code == 200
    assert refreshed.json()["user"]["first_name"] == "Renamed"


def _refreshed_token(response) -> str:
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    return body.get("refresh_token") or body["session"]["refresh_token"]


def _session_audit(session_id: str) -> list[tuple[str, dict]]:
    return list(
        AuditLog.objects.filter(target_id=session_id)
        .order_by("id")
        .values_list("action", "changes")
    )


@pytest.mark.parametrize("url", REFRESH_URLS)
def test_a_routine_refresh_rotates_without_an_audit_row(api_client, warm, url):
    before = LoginSession.objects.get(pk=warm["session_id"])

    newest = _refreshed_token(post_refresh(api_client, warm["refresh_token"], url))
    newest = _refreshed_token(post_refresh(api_client, newest, url))

    after = LoginSession.objects.get(pk=warm["session_id"])
    assert after.refresh_jti != before.refresh_jti
    assert after.last_seen_at > before.last_seen_at
    assert after.expires_at >= before.expires_at
    assert [action for action, _ in _session_audit(warm["session_id"])] == [
        AuditAction.SESSION_START
    ]


@pytest.mark.parametrize("url", REFRESH_URLS)
def test_a_refresh_from_another_client_is_audited_with_both(api_client, warm, url):
    session = LoginSession.objects.get(pk=warm["session_id"])
    old = {"ip_address": session.ip_address, "user_agent": session.user_agent}

    newest = _refreshed_token(
        api_client.post(
            url,
            {"refresh_token": warm["refresh_token"]},
            format="json",
            HTTP_USER_AGENT="another browser",
            REMOTE_ADDR="203.0.113.9",
        )
    )

    session.refresh_from_db()
    assert (session.ip_address, session.user_agent) == ("203.0.113.9", "another browser")
    new = {"ip_address": "203.0.113.9", "user_agent": "another browser"}
    assert _session_audit(warm["session_id"])[1:] == [
        (AuditAction.SESSION_REFRESH, {"from": old, "to": new})
    ]
    # The old token from the old client is re-use, and the new client goes on.
    assert_envelope(
        post_refresh(api_client, warm["refresh_token"], url), 401, "REFRESH_TOKEN_REUSED"
    )
    assert_envelope(post_refresh(api_client, newest, url), 401, "INVALID_TOKEN")


@pytest.mark.parametrize("url", REFRESH_URLS)
def test_a_stolen_token_replayed_before_the_owner_refreshes_locks_out_the_owner(
    api_client, warm, url
):
    """Whoever presents the current token first rotates it; the other copy is re-use."""
    thief = api_client.post(
        url,
        {"refresh_token": warm["refresh_token"]},
        format="json",
        HTTP_USER_AGENT="thief",
        REMOTE_ADDR="198.51.100.7",
    )
    assert thief.status_code == 200

    assert_envelope(
        post_refresh(api_client, warm["refresh_token"], url), 401, "REFRESH_TOKEN_REUSED"
    )
    assert_envelope(post_refresh(api_client, _refreshed_token(thief), url), 401, "INVALID_TOKEN")


def test_an_unknown_session_cannot_refresh_and_revokes_nothing(api_client, user, warm):
    other = login(api_client, user.email)
    LoginSession.objects.filter(pk=warm["session_id"]).delete()

    assert_envelope(post_refresh(api_client, warm["refresh_token"]), 401, "INVALID_TOKEN")
    assert LoginSession.objects.get(pk=other["session_id"]).revoked_at is None
