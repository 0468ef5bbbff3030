from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from accounts.models import LoginSession, User
from accounts.tasks import purge_deleted_accounts, purge_login_sessions
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    LOGIN_URL,
    ME_URL,
    REGISTER_URL,
    assert_envelope,
    bearer,
    login,
    token_in,
)
from messagelog.models import MessageLog
from security.models import AuditLog

PASSWORD = "SecurePass123"


# ----- sessions API -------------------------------------------------------------------


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


def test_purge_job_removes_old_revoked_and_expired_sessions(api_client, user):
    keep = login(api_client, user.email)
    old = login(api_client, user.email)
    LoginSession.objects.filter(pk=old["session_id"]).update(
        revoked_at=timezone.now() - timedelta(days=31)
    )

    purged = purge_login_sessions.delay().get()

    assert purged == 1
    assert list(LoginSession.objects.values_list("pk", flat=True)) == [
        LoginSession.objects.get(pk=keep["session_id"]).pk
    ]


# ----- email verification ---------------------------------------------------------------


def test_registration_sends_a_verification_email_when_enabled(
    api_client, db, settings, mailoutbox, send_mail_now
):
    settings.EMAIL_VERIFICATION_ENABLED = True
    body = {"email": "v@example.com", "username": "verifier", "password": PASSWORD}

    send_mail_now(lambda: api_client.post(REGISTER_URL, body, format="json"))
    verified = api_client.post(
        "/api/v1/auth/verify-email", {"token": token_in(mailoutbox[0])}, format="json"
    )
    reused = api_client.post(
        "/api/v1/auth/verify-email", {"token": token_in(mailoutbox[0])}, format="json"
    )

    assert mailoutbox[0].to == ["v@example.com"]
    assert verified.status_code == 200
    assert User.objects.get(username="verifier").is_verified
    assert_envelope(reused, 400, "INVALID_TOKEN")


def test_no_verification_email_when_disabled(api_client, db, mailoutbox, send_mail_now):
    body = {"email": "v@example.com", "username": "verifier", "password": PASSWORD}

    send_mail_now(lambda: api_client.post(REGISTER_URL, body, format="json"))

    assert mailoutbox == []


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


# ----- password reset -------------------------------------------------------------------


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
    assert AuditLog.objects.filter(action="user.password_reset").exists()


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


# ----- password expiry -------------------------------------------------------------------


def test_expired_password_allows_only_changing_it(api_client, db, settings):
    settings.PASSWORD_EXPIRY_DAYS = 90
    user = UserFactory(password_changed_at=timezone.now() - timedelta(days=91))

    tokens = login(api_client, user.email)
    auth = bearer(tokens["access_token"])
    blocked = api_client.get(ME_URL, **auth)
    changed = api_client.post(
        "/api/v1/auth/change-password",
        {"current_password": PASSWORD, "new_password": "BrandNewPass456"},
        format="json",
        **auth,
    )

    assert tokens["password_expired"] is True
    assert_envelope(blocked, 403, "PASSWORD_EXPIRED")
    assert changed.status_code == 200
    assert changed.json()["password_expired"] is False
    assert api_client.get(ME_URL, **bearer(changed.json()["access_token"])).status_code == 200


def test_password_expiry_off_by_default(api_client, db):
    user = UserFactory(password_changed_at=timezone.now() - timedelta(days=3650))

    assert login(api_client, user.email)["password_expired"] is False


# ----- email change ----------------------------------------------------------------------


def test_email_change_needs_the_password(api_client, user):
    auth = bearer(login(api_client, user.email)["access_token"])

    response = api_client.put(
        "/v1/users/email",
        {"email": "new@example.com", "password": "Nope12345"},
        format="json",
        **auth,
    )

    assert_envelope(response, 400, "INVALID_CURRENT_PASSWORD")


def test_email_change_clash_is_409(api_client, user):
    UserFactory(email="taken@example.com")
    auth = bearer(login(api_client, user.email)["access_token"])

    response = api_client.put(
        "/v1/users/email",
        {"email": "TAKEN@example.com", "password": PASSWORD},
        format="json",
        **auth,
    )

    assert_envelope(response, 409, "USER_EXISTS")


def test_email_change_applies_at_once_without_verification(api_client, user):
    auth = bearer(login(api_client, user.email)["access_token"])

    response = api_client.put(
        "/v1/users/email", {"email": "new@example.com", "password": PASSWORD}, format="json", **auth
    )

    assert response.json()["verification_required"] is False
    user.refresh_from_db()
    assert user.email == "new@example.com"


def test_email_change_waits_for_verification_when_enabled(
    api_client, user, settings, mailoutbox, send_mail_now
):
    settings.EMAIL_VERIFICATION_ENABLED = True
    auth = bearer(login(api_client, user.email)["access_token"])
    old = user.email

    send_mail_now(
        lambda: api_client.put(
            "/v1/users/email",
            {"email": "new@example.com", "password": PASSWORD},
            format="json",
            **auth,
        )
    )
    user.refresh_from_db()
    assert (user.email, user.pending_email) == (old, "new@example.com")
    assert mailoutbox[0].to == ["new@example.com"]

    api_client.post("/api/v1/auth/verify-email", {"token": token_in(mailoutbox[0])}, format="json")

    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("new@example.com", "")


# ----- deletion, recovery, purge --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"), [("delete", "/v1/users/account"), ("delete", "/api/v1/users/me")]
)
def test_deletion_needs_password_and_stops_tokens_at_once(api_client, user, method, url):
    tokens = login(api_client, user.email)
    auth = bearer(tokens["access_token"])

    wrong = getattr(api_client, method)(url, {"password": "Nope12345"}, format="json", **auth)
    right = getattr(api_client, method)(url, {"password": PASSWORD}, format="json", **auth)

    assert_envelope(wrong, 400, "INVALID_CURRENT_PASSWORD")
    assert right.status_code == 200
    assert_envelope(api_client.get(ME_URL, **auth), 401)
    relogin = api_client.post(LOGIN_URL, {"email": user.email, "password": PASSWORD}, format="json")
    assert_envelope(relogin, 403, "ACCOUNT_DELETED")


def _delete(api_client, user):
    auth = bearer(login(api_client, user.email)["access_token"])
    api_client.delete("/api/v1/users/me", {"password": PASSWORD}, format="json", **auth)


def test_recovery_inside_the_window(api_client, user, mailoutbox, send_mail_now):
    _delete(api_client, user)

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
    _delete(api_client, user)
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
    assert AuditLog.objects.filter(action="user.purged", target_id=str(user.pk)).exists()
    log = MessageLog.objects.get(user_id=user.pk)
    assert (log.username, log.email, log.ip_address, log.messages) == (
        "",
        "",
        None,
        {"redacted": True},
    )
    assert log.tokens_used == 7


def test_purge_leaves_accounts_inside_the_window(api_client, user):
    _delete(api_client, user)

    with time_machine.travel(timezone.now() + timedelta(days=10)):
        assert purge_deleted_accounts.delay().get() == 0

    user.refresh_from_db()
    assert user.purged_at is None and user.email.endswith("@example.com")


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


def test_staff_deletion_follows_the_same_path(client, api_client, user):
    admin = User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )
    client.force_login(admin)
    tokens = login(api_client, user.email)

    client.post(
        "/admin/accounts/user/", {"action": "delete_recoverably", "_selected_action": [user.pk]}
    )

    user.refresh_from_db()
    assert user.status == User.Status.DELETED and user.deleted_at is not None
    assert_envelope(api_client.get(ME_URL, **bearer(tokens["access_token"])), 401)
    assert AuditLog.objects.filter(action="user.deleted", actor_label="boss").exists()


# ----- export -------------------------------------------------------------------------


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
        "user.profile_update",
    }
    assert body["mfa"] == {"totp_enabled": False}
    assert "password" not in body["profile"]


# ----- staff MFA requirement --------------------------------------------------------------


def test_admin_require_mfa_refuses_staff_api_without_mfa(api_client, db, settings):
    settings.ADMIN_REQUIRE_MFA = True
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    auth = bearer(login(api_client, "boss")["access_token"])

    response = api_client.get("/v1/admin-panel/security-logs", **auth)

    body = assert_envelope(response, 403)
    assert "MFA" in body["message"]


def test_admin_require_mfa_allows_staff_after_mfa(api_client, db, settings):
    from accounts.tests.test_mfa import enrol

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


def test_admin_require_mfa_refuses_staff_admin_without_otp(client, db, settings):
    settings.ADMIN_REQUIRE_MFA = True
    User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )

    page = client.get("/admin/login/")
    password_only = client.post("/admin/login/", {"username": "boss", "password": "BossPass12345"})
    client.force_login(User.objects.get(username="boss"))
    index = client.get("/admin/")

    assert "otp_token" in page.content.decode()
    assert password_only.status_code == 200  # the form is shown again, no login
    assert index.status_code == 302 and "/admin/login/" in index["Location"]


def test_admin_without_mfa_requirement_uses_password_login(client, db):
    assert "otp_token" not in client.get("/admin/login/").content.decode()
