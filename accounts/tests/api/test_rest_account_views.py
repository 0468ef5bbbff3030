"""/api/v1/users/me/sessions and /export, and the email-link endpoints of /api/v1/auth."""

from datetime import timedelta

import time_machine
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    ME_URL,
    PASSWORD,
    REGISTER_URL,
    assert_envelope,
    bearer,
    delete_own_account,
    login,
    token_in,
)
from messagelog.models import MessageLog
from security.tests.helpers import audit_row


def test_sessions_list_marks_the_current_one(api_client, user):
    first = login(api_client, user.email, HTTP_USER_AGENT="laptop")
    login(api_client, user.email, HTTP_USER_AGENT="phone")

    body = api_client.get("/api/v1/users/me/sessions", **bearer(first["access_token"])).json()

    rows = {row["user_agent"]: row for row in body["results"]}
    assert set(rows) == {"laptop", "phone"}
    assert rows["laptop"]["current"] is True and rows["phone"]["current"] is False
    assert {"id", "ip_address", "created_at", "last_seen_at", "expires_at"} <= set(rows["laptop"])


def test_deleting_a_session_kills_its_tokens_at_once(api_client, user):
    mine = login(api_client, user.email)
    other = login(api_client, user.email)

    response = api_client.delete(
        f"/api/v1/users/me/sessions/{other['session_id']}", **bearer(mine["access_token"])
    )

    assert response.status_code == 200
    assert_envelope(api_client.get(ME_URL, **bearer(other["access_token"])), 401)
    refresh = api_client.post(
        "/api/v1/auth/refresh", {"refresh_token": other["refresh_token"]}, format="json"
    )
    assert_envelope(refresh, 401)
    assert api_client.get(ME_URL, **bearer(mine["access_token"])).status_code == 200


def test_another_users_session_is_404(api_client, user):
    stranger = login(api_client, UserFactory().email)
    mine = login(api_client, user.email)

    response = api_client.delete(
        f"/api/v1/users/me/sessions/{stranger['session_id']}", **bearer(mine["access_token"])
    )

    assert_envelope(response, 404)
    assert api_client.get(ME_URL, **bearer(stranger["access_token"])).status_code == 200


def test_log_out_everywhere_else(api_client, user):
    mine, *others = [login(api_client, user.email) for _ in range(3)]

    response = api_client.post(
        "/api/v1/users/me/sessions/revoke-others", **bearer(mine["access_token"])
    )

    assert response.json()["message"].startswith("2 ")
    for other in others:
        assert api_client.get(ME_URL, **bearer(other["access_token"])).status_code == 401
    assert api_client.get(ME_URL, **bearer(mine["access_token"])).status_code == 200


def test_verification_token_expires(api_client, db, settings, mailoutbox, send_mail_now):
    settings.EMAIL_VERIFICATION_ENABLED = True
    body = {"email": "v@example.com", "username": "verifier", "password": PASSWORD}
    send_mail_now(lambda: api_client.post(REGISTER_URL, body, format="json"))

    with time_machine.travel(timezone.now() + timedelta(days=4)):
        response = api_client.post(
            "/api/v1/auth/verify-email", {"token": token_in(mailoutbox[0])}, format="json"
        )

    assert_envelope(response, 400, "INVALID_TOKEN")


def test_resend_answers_the_same_for_unknown_addresses(api_client, db, mailoutbox, send_mail_now):
    UserFactory(email="unverified@example.com", is_verified=False)

    known = send_mail_now(
        lambda: api_client.post(
            "/api/v1/auth/verify-email/resend", {"email": "unverified@example.com"}, format="json"
        )
    )
    unknown = send_mail_now(
        lambda: api_client.post(
            "/api/v1/auth/verify-email/resend", {"email": "nobody@example.com"}, format="json"
        )
    )

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [mail.to for mail in mailoutbox] == [["unverified@example.com"]]


def test_tampered_verification_token_is_refused(api_client, db):
    assert_envelope(
        api_client.post("/api/v1/auth/verify-email", {"token": "abc:def"}, format="json"), 400
    )


def _request_reset(api_client, email, send_mail_now):
    return send_mail_now(
        lambda: api_client.post("/api/v1/auth/reset-password", {"email": email}, format="json")
    )


def test_reset_answers_the_same_whether_or_not_the_email_exists(
    api_client, user, mailoutbox, send_mail_now
):
    known = _request_reset(api_client, user.email, send_mail_now)
    unknown = _request_reset(api_client, "ghost@example.com", send_mail_now)

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [user.email]


def test_reset_sets_password_revokes_sessions_and_works_once(
    api_client, user, mailoutbox, send_mail_now
):
    session = login(api_client, user.email)
    _request_reset(api_client, user.email, send_mail_now)
    token = token_in(mailoutbox[0])

    first = api_client.post(
        "/api/v1/auth/reset-password/confirm",
        {"token": token, "new_password": "BrandNewPass456"},
        format="json",
    )
    second = api_client.post(
        "/api/v1/auth/reset-password/confirm",
        {"token": token, "new_password": "OtherNewPass789"},
        format="json",
    )

    assert first.status_code == 200
    assert_envelope(second, 400, "INVALID_TOKEN")
    assert_envelope(api_client.get(ME_URL, **bearer(session["access_token"])), 401)
    assert login(api_client, user.email, "BrandNewPass456")
    assert audit_row(action="user.password_reset")


def test_reset_token_expires(api_client, user, mailoutbox, send_mail_now):
    _request_reset(api_client, user.email, send_mail_now)

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = api_client.post(
            "/api/v1/auth/reset-password/confirm",
            {"token": token_in(mailoutbox[0]), "new_password": "BrandNewPass456"},
            format="json",
        )

    assert_envelope(response, 400, "INVALID_TOKEN")


def test_reset_checks_the_password_policy(api_client, user, mailoutbox, send_mail_now):
    _request_reset(api_client, user.email, send_mail_now)

    response = api_client.post(
        "/api/v1/auth/reset-password/confirm",
        {"token": token_in(mailoutbox[0]), "new_password": "weak"},
        format="json",
    )

    assert_envelope(response, 400, "WEAK_PASSWORD")


def test_recovery_inside_the_window(api_client, user, mailoutbox, send_mail_now):
    delete_own_account(api_client, user)

    asked = send_mail_now(
        lambda: api_client.post(
            "/api/v1/auth/recover-account", {"email": user.email}, format="json"
        )
    )
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        restored = api_client.post(
            "/api/v1/auth/recover-account/confirm",
            {"token": token_in(mailoutbox[0])},
            format="json",
        )
        relogin = login(api_client, user.email)

    assert asked.status_code == 202
    assert restored.status_code == 200
    assert relogin["access_token"]


def test_recovery_after_the_window_fails_and_purge_erases(
    api_client, user, mailoutbox, send_mail_now
):
    MessageLog.objects.create(
        user_id=user.pk,
        username=user.username,
        email=user.email,
        model="echo-1",
        messages={"request": [{"role": "user", "content": "my address is ..."}]},
        ip_address="192.0.2.1",
        tokens_used=7,
    )
    delete_own_account(api_client, user)
    send_mail_now(
        lambda: api_client.post(
            "/api/v1/auth/recover-account", {"email": user.email}, format="json"
        )
    )
    token = token_in(mailoutbox[0])

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        late = api_client.post(
            "/api/v1/auth/recover-account/confirm", {"token": token}, format="json"
        )
        call_command("run_maintenance", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert_envelope(late, 400, "INVALID_TOKEN")
    user.refresh_from_db()
    assert user.username == f"deleted-{user.pk}"
    assert user.email == f"deleted-{user.pk}@invalid.example"
    assert (user.name, user.about_me, user.preferences) == ("", "", {})
    assert not user.has_usable_password()
    assert user.purged_at is not None
    assert audit_row(action="user.purged", target_id=str(user.pk))
    log = MessageLog.objects.get(user_id=user.pk)
    assert (log.username, log.email, log.ip_address, log.messages) == (
        "",
        "",
        None,
        {"redacted": True},
    )
    assert log.tokens_used == 7


def test_recovery_request_answers_the_same_for_unknown(api_client, user, mailoutbox, send_mail_now):
    active = send_mail_now(
        lambda: api_client.post(
            "/api/v1/auth/recover-account", {"email": user.email}, format="json"
        )
    )
    unknown = send_mail_now(
        lambda: api_client.post(
            "/api/v1/auth/recover-account", {"email": "ghost@example.com"}, format="json"
        )
    )

    assert active.json() == unknown.json()
    assert mailoutbox == []


def test_export_holds_everything_about_the_caller(api_client, user):
    tokens = login(api_client, user.email)
    api_client.patch(
        ME_URL, {"preferences": {"theme": "dark"}}, format="json", **bearer(tokens["access_token"])
    )

    body = api_client.get("/api/v1/users/me/export", **bearer(tokens["access_token"])).json()

    assert body["profile"]["email"] == user.email
    assert body["preferences"] == {"theme": "dark"}
    assert [row["id"] for row in body["login_sessions"]] == [tokens["session_id"]]
    assert {row["action"] for row in body["audit_records"]} >= {
        "session.start",
        "user.preferences_update",
    }
    assert body["mfa"] == {"totp_enabled": False}
    assert "password" not in body["profile"]


def test_export_holds_the_callers_keys_masked_and_their_credit_ledger(api_client, user):
    from apikeys.services import apikey_create
    from credits.services import credits_set

    issued = apikey_create(user=user, actor=user, name="laptop", scopes=["read"])
    admin = UserFactory(is_staff=True, is_superuser=True)
    credits_set(actor=admin, user=user, credits={"main": 7}, limits=None, reason="goodwill")
    tokens = login(api_client, user.email)

    body = api_client.get("/api/v1/users/me/export", **bearer(tokens["access_token"])).json()

    [key] = [row for row in body["api_keys"] if row["name"] == "laptop"]
    assert key["key"] == issued.key.masked and key["scopes"] == ["read"]
    assert "digest" not in key and issued.clear not in str(body)
    assert [row["reason"] for row in body["credit_history"]] == ["goodwill"]
