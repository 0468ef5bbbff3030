"""user_status_set: a status change ends sessions and keys, from every surface."""

from accounts.models import LoginSession, User
from accounts.tests.helpers import (
    ME_URL,
    admin_change_form,
    assert_envelope,
    bearer,
    login,
    recover_account,
)
from apikeys.models import APIKey
from security.tests.helpers import audit_rows, platform_admin_auth

CREDITS_URL = "/api/v1/users/me/credits"


def _admin_form_post(client, user: User, **changes):
    data = admin_change_form(client, user, **changes)
    return client.post(f"/admin/accounts/user/{user.pk}/change/", data)


def _api_key(api_client, auth: dict) -> dict:
    clear = api_client.post("/v1/users/api-key/regenerate", **auth).json()["api_key"]
    return {"HTTP_X_API_KEY": clear}


def test_admin_form_suspension_ends_sessions_and_keys_and_reactivation_revives_no_token(
    admin_client, api_client, user
):
    tokens = login(api_client, user.username)
    auth = bearer(tokens["access_token"])
    key = _api_key(api_client, auth)
    assert api_client.get(CREDITS_URL, **key).status_code == 200

    suspended = _admin_form_post(admin_client, user, status="suspended")

    assert suspended.status_code == 302
    assert_envelope(api_client.get(ME_URL, **auth), 401)
    assert api_client.get(CREDITS_URL, **key).status_code == 401
    assert LoginSession.objects.get(pk=tokens["session_id"]).revoked_reason == "status_change"
    [entry] = audit_rows(action="user.status_change")
    assert entry.changes["status"] == {"before": "active", "after": "suspended"}

    user.refresh_from_db()
    _admin_form_post(admin_client, user, status="active")

    assert_envelope(api_client.get(ME_URL, **auth), 401)
    refreshed = api_client.post(
        "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json"
    )
    assert_envelope(refreshed, 401)
    assert api_client.get(CREDITS_URL, **key).status_code == 401
    assert not APIKey.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert login(api_client, user.username)["access_token"]


def test_admin_form_deletion_is_a_staff_deletion(admin_client, api_client, user):
    auth = bearer(login(api_client, user.username)["access_token"])
    key = _api_key(api_client, auth)

    _admin_form_post(admin_client, user, status="deleted")

    user.refresh_from_db()
    assert user.deleted_at is not None
    assert (user.deleted_by_id, user.status_before_deletion) == (admin_client.admin.pk, "active")
    assert not APIKey.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert api_client.get(CREDITS_URL, **key).status_code == 401
    assert_envelope(recover_account(api_client, user), 400, "INVALID_TOKEN")


def test_admin_panel_suspension_then_activation_revives_no_token(api_client, user):
    tokens = login(api_client, user.username)
    staff = platform_admin_auth(api_client)

    for status in ("suspended", "active"):
        response = api_client.put(
            f"/v1/admin-panel/users/{user.pk}", {"status": status}, format="json", **staff
        )
        assert response.status_code == 200, response.json()

    assert_envelope(api_client.get(ME_URL, **bearer(tokens["access_token"])), 401)
    assert len(audit_rows(action="user.status_change")) == 2
