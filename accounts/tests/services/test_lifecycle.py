"""The account lifecycle: email change, deletion and recovery, from every surface."""

import pytest

from accounts.models import LoginSession, User
from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.helpers import (
    LOGIN_URL,
    ME_URL,
    assert_envelope,
    bearer,
    login,
    recover_account,
    send_password_check,
)
from security.tests.helpers import platform_admin_auth


@pytest.mark.parametrize("verification", [False, True])
def test_email_change_tells_the_old_address_and_ends_the_other_sessions(
    api_client, user, settings, mailoutbox, send_mail_now, verification
):
    settings.EMAIL_VERIFICATION_ENABLED = verification
    old = user.email
    other = login(api_client, user.username)
    mine = login(api_client, user.username)

    response = send_mail_now(
        lambda: send_password_check(
            api_client, "email change", DEFAULT_PASSWORD, bearer(mine["access_token"])
        )
    )

    assert response.status_code == 200
    notices = [mail for mail in mailoutbox if mail.to == [old]]
    assert len(notices) == 1
    assert "new@example.com" in notices[0].body
    assert_envelope(api_client.get(ME_URL, **bearer(other["access_token"])), 401)
    assert api_client.get(ME_URL, **bearer(mine["access_token"])).status_code == 200
    assert LoginSession.objects.get(pk=other["session_id"]).revoked_reason == "email_change"


def test_self_deletion_is_recovered_to_the_status_it_had(api_client, user):
    auth = bearer(login(api_client, user.username)["access_token"])
    api_client.delete("/v1/users/account", {"password": DEFAULT_PASSWORD}, format="json", **auth)
    user.refresh_from_db()
    assert (user.deleted_by_id, user.status_before_deletion) == (user.pk, "active")
    # An account deleted while it was pending (the status kept for it says so).
    User.objects.filter(pk=user.pk).update(status_before_deletion=User.Status.PENDING)
    user.refresh_from_db()

    restored = recover_account(api_client, user)

    assert restored.status_code == 200
    user.refresh_from_db()
    assert (user.status, user.deleted_at, user.deleted_by_id) == ("pending", None, None)
    relogin = api_client.post(
        LOGIN_URL, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert_envelope(relogin, 403, "ACCOUNT_PENDING")


def test_an_account_staff_deleted_cannot_recover_itself(
    api_client, user, mailoutbox, send_mail_now
):
    staff = platform_admin_auth(api_client)
    deleted = api_client.delete(f"/api/v1/users/{user.pk}?reason=fraud", **staff)
    user.refresh_from_db()

    asked = send_mail_now(
        lambda: api_client.post(
            "/api/v1/auth/recover-account", {"email": user.email}, format="json"
        )
    )
    restored = recover_account(api_client, user)

    assert deleted.status_code == 200
    assert user.deleted_by.username == "platformadmin"
    assert asked.status_code == 202 and mailoutbox == []
    assert_envelope(restored, 400, "INVALID_TOKEN")
    user.refresh_from_db()
    assert user.status == User.Status.DELETED


def test_an_account_deleted_by_the_admin_action_cannot_recover_itself(
    admin_client, api_client, user
):
    admin_client.post(
        "/admin/accounts/user/",
        {"action": "delete_recoverably", "_selected_action": [user.pk]},
    )
    user.refresh_from_db()

    assert user.deleted_by_id == admin_client.admin.pk
    assert_envelope(recover_account(api_client, user), 400, "INVALID_TOKEN")


def test_staff_deleting_a_self_deleted_account_takes_its_recovery_away(api_client, user):
    auth = bearer(login(api_client, user.username)["access_token"])
    api_client.delete("/v1/users/account", {"password": DEFAULT_PASSWORD}, format="json", **auth)
    staff = platform_admin_auth(api_client)

    deleted = api_client.delete(f"/api/v1/users/{user.pk}?reason=fraud", **staff)
    user.refresh_from_db()

    assert deleted.status_code == 200
    assert user.deleted_by.username == "platformadmin"
    assert_envelope(recover_account(api_client, user), 400, "INVALID_TOKEN")
    user.refresh_from_db()
    assert user.status == User.Status.DELETED
