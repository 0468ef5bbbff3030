"""Account rules that must hold on every path: the password checks of a logged-in user,
recovery after deletion, status changes from any surface, and the MFA code throttle."""

import io
from datetime import timedelta

import pyotp
import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.auth import email_tokens
from accounts.models import LoginSession, User
from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.helpers import LOGIN_URL, ME_URL, assert_envelope, bearer, login
from accounts.tests.test_mfa import CONFIRM, DISABLE, SETUP, VERIFY, enrol, password_step
from apikeys.models import APIKey
from security.models import AuditLog, SecurityEvent
from security.tests.helpers import platform_admin_auth

WRONG = "WrongPass999"
CREDITS_URL = "/api/v1/users/me/credits"


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )
    client.force_login(admin)
    client.admin = admin
    return client


# ----- every password check of a logged-in user ---------------------------------------

PASSWORD_CHECKS = {
    "email change": ("put", "/v1/users/email", {"email": "new@example.com"}, "password"),
    "deletion (v1)": ("delete", "/v1/users/account", {}, "password"),
    "deletion (me)": ("delete", ME_URL, {}, "password"),
    "password change": (
        "post",
        "/api/v1/auth/change-password",
        {"new_password": "BrandNewPass456"},
        "current_password",
    ),
    "password change (v1)": (
        "put",
        "/v1/users/password",
        {"new_password": "BrandNewPass456"},
        "current_password",
    ),
    "MFA setup": ("post", SETUP, {}, "password"),
    "MFA disable": ("post", DISABLE, {"code": "123456"}, "password"),
    "MFA recovery codes": (
        "post",
        "/api/v1/auth/mfa/recovery-codes",
        {"code": "123456"},
        "password",
    ),
}


def _check(api_client, name: str, password: str, auth: dict, **meta):
    method, url, body, field = PASSWORD_CHECKS[name]
    return getattr(api_client, method)(
        url, {**body, field: password}, format="json", **auth, **meta
    )


@pytest.mark.parametrize("name", PASSWORD_CHECKS)
def test_wrong_passwords_lock_the_account_like_failed_logins(api_client, user, settings, name):
    settings.RATELIMIT_PASSWORD_CHANGE = "100/m"  # its own limit is not what is tested here
    auth = bearer(login(api_client, user.username)["access_token"])

    answers = [
        _check(api_client, name, WRONG, auth, REMOTE_ADDR=f"198.51.100.{n}") for n in range(5)
    ]

    assert [answer.status_code for answer in answers[:4]] == [400] * 4
    assert_envelope(answers[4], 423, "ACCOUNT_LOCKED")
    assert int(answers[4]["Retry-After"]) > 3500
    right = _check(api_client, name, DEFAULT_PASSWORD, auth, REMOTE_ADDR="198.51.100.9")
    assert_envelope(right, 423, "ACCOUNT_LOCKED")
    relogin = api_client.post(
        LOGIN_URL, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert_envelope(relogin, 423, "ACCOUNT_LOCKED")


def test_wrong_passwords_and_failed_logins_share_one_count(api_client, user):
    auth = bearer(login(api_client, user.username)["access_token"])
    for n in range(3):
        api_client.post(
            LOGIN_URL,
            {"email": user.email.upper(), "password": WRONG},
            format="json",
            REMOTE_ADDR=f"203.0.113.{n}",
        )

    _check(api_client, "email change", WRONG, auth, REMOTE_ADDR="203.0.113.10")
    last = _check(api_client, "deletion (v1)", WRONG, auth, REMOTE_ADDR="203.0.113.11")

    assert_envelope(last, 423, "ACCOUNT_LOCKED")


def test_a_wrong_password_is_a_security_event_of_the_account(api_client, user):
    auth = bearer(login(api_client, user.username)["access_token"])

    _check(api_client, "email change", WRONG, auth)

    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert (event.user_id, event.details) == (user.pk, {"purpose": "email_change"})


def test_password_checks_are_rate_limited_per_user(api_client, user, settings):
    settings.RATELIMIT_PASSWORD_CONFIRM = "2/m"
    auth = bearer(login(api_client, user.username)["access_token"])

    answers = [
        _check(api_client, name, DEFAULT_PASSWORD, auth)
        for name in ("MFA setup", "MFA setup", "email change")
    ]

    assert [answer.status_code for answer in answers[:2]] == [200, 200]
    assert_envelope(answers[2], 429, "RATE_LIMITED")
    assert answers[2]["Retry-After"]
    user.refresh_from_db()
    assert user.email != "new@example.com"


# ----- email change -----------------------------------------------------------------------


@pytest.mark.parametrize("verification", [False, True])
def test_email_change_tells_the_old_address_and_ends_the_other_sessions(
    api_client, user, settings, mailoutbox, send_mail_now, verification
):
    settings.EMAIL_VERIFICATION_ENABLED = verification
    old = user.email
    other = login(api_client, user.username)
    mine = login(api_client, user.username)

    response = send_mail_now(
        lambda: _check(api_client, "email change", DEFAULT_PASSWORD, bearer(mine["access_token"]))
    )

    assert response.status_code == 200
    notices = [mail for mail in mailoutbox if mail.to == [old]]
    assert len(notices) == 1
    assert "new@example.com" in notices[0].body
    assert_envelope(api_client.get(ME_URL, **bearer(other["access_token"])), 401)
    assert api_client.get(ME_URL, **bearer(mine["access_token"])).status_code == 200
    assert LoginSession.objects.get(pk=other["session_id"]).revoked_reason == "email_change"


# ----- deletion and recovery --------------------------------------------------------------


def _recover(api_client, user):
    token = email_tokens.account_recovery_token(user)
    return api_client.post("/api/v1/auth/recover-account/confirm", {"token": token}, format="json")


def test_self_deletion_is_recovered_to_the_status_it_had(api_client, user):
    auth = bearer(login(api_client, user.username)["access_token"])
    api_client.delete("/v1/users/account", {"password": DEFAULT_PASSWORD}, format="json", **auth)
    user.refresh_from_db()
    assert (user.deleted_by_id, user.status_before_deletion) == (user.pk, "active")
    # An account deleted while it was pending (the status kept for it says so).
    User.objects.filter(pk=user.pk).update(status_before_deletion=User.Status.PENDING)
    user.refresh_from_db()

    restored = _recover(api_client, user)

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
    restored = _recover(api_client, user)

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
    assert_envelope(_recover(api_client, user), 400, "INVALID_TOKEN")


# ----- status changes from every surface --------------------------------------------------


def _admin_form_post(client, user: User, **changes):
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"tenant": "", "role": user.role_id, "preferences": "{}", **changes})
    data.pop("groups", None)
    data.pop("user_permissions", None)
    data.pop("last_login", None)
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
    entry = AuditLog.objects.get(action="user.status_change")
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
    assert_envelope(_recover(api_client, user), 400, "INVALID_TOKEN")


def test_admin_panel_suspension_then_activation_revives_no_token(api_client, user):
    tokens = login(api_client, user.username)
    staff = platform_admin_auth(api_client)

    for status in ("suspended", "active"):
        response = api_client.put(
            f"/v1/admin-panel/users/{user.pk}", {"status": status}, format="json", **staff
        )
        assert response.status_code == 200, response.json()

    assert_envelope(api_client.get(ME_URL, **bearer(tokens["access_token"])), 401)
    assert AuditLog.objects.filter(action="user.status_change").count() == 2


@pytest.mark.parametrize("status", ["deleted", "bogus"])
def test_import_refuses_a_status_an_account_cannot_start_in(tmp_path, db, status):
    path = tmp_path / "users.csv"
    path.write_text(
        f"username,email,password,status\nimported,imported@example.com,SecurePass123,{status}\n"
    )
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_users", str(path), stdout=io.StringIO(), stderr=err)

    assert f"status '{status}'" in err.getvalue()
    assert not User.objects.filter(username="imported").exists()


# ----- MFA codes after a wrong one ----------------------------------------------------------


def _assert_throttled(response) -> None:
    body = assert_envelope(response, 429, "MFA_THROTTLED")
    assert int(response["Retry-After"]) >= 1
    assert body["retry_after_seconds"] == int(response["Retry-After"])
    assert "wait" in body["message"]


@pytest.fixture
def enrolled(api_client, user):
    totp, _ = enrol(api_client, user)
    with time_machine.travel(timezone.now() + timedelta(seconds=90), tick=False) as clock:
        yield user, totp, clock


@pytest.mark.parametrize(
    ("login_url", "verify_url"),
    [(LOGIN_URL, VERIFY), ("/v1/users/login", "/v1/users/login/mfa")],
)
def test_valid_code_right_after_a_wrong_one_is_429_not_invalid(
    api_client, enrolled, login_url, verify_url
):
    user, totp, clock = enrolled
    token = password_step(api_client, user, login_url)["mfa_token"]

    wrong = api_client.post(verify_url, {"mfa_token": token, "code": "000000"}, format="json")
    throttled = api_client.post(verify_url, {"mfa_token": token, "code": totp.now()}, format="json")
    clock.shift(timedelta(seconds=int(throttled["Retry-After"])))
    accepted = api_client.post(verify_url, {"mfa_token": token, "code": totp.now()}, format="json")

    assert_envelope(wrong, 401, "INVALID_MFA_CODE")
    _assert_throttled(throttled)
    assert accepted.status_code == 200, accepted.json()


def test_confirm_code_right_after_a_wrong_one_is_429(api_client, user):
    auth = bearer(login(api_client, user.username)["access_token"])
    with time_machine.travel(timezone.now(), tick=False):
        enrolment = api_client.post(SETUP, {"password": DEFAULT_PASSWORD}, format="json", **auth)
        totp = pyotp.TOTP(enrolment.json()["secret"])

        wrong = api_client.post(CONFIRM, {"code": "000000"}, format="json", **auth)
        throttled = api_client.post(CONFIRM, {"code": totp.now()}, format="json", **auth)

    assert_envelope(wrong, 400, "INVALID_MFA_CODE")
    _assert_throttled(throttled)


def test_disable_code_right_after_a_wrong_one_is_429(api_client, enrolled):
    user, totp, _ = enrolled
    token = password_step(api_client, user)["mfa_token"]
    auth = bearer(
        api_client.post(VERIFY, {"mfa_token": token, "code": totp.now()}, format="json").json()[
            "access_token"
        ]
    )

    wrong = api_client.post(
        DISABLE, {"password": DEFAULT_PASSWORD, "code": "000000"}, format="json", **auth
    )
    throttled = api_client.post(
        DISABLE, {"password": DEFAULT_PASSWORD, "code": totp.now()}, format="json", **auth
    )

    assert_envelope(wrong, 400, "INVALID_MFA_CODE")
    _assert_throttled(throttled)


@pytest.mark.django_db(transaction=True)
def test_migration_takes_deleter_and_prior_status_from_the_audit_trail():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        ("accounts", "0003_mfa_deletion_lifecycle"),
        (
            "accounts",
            "0004_deletion_owner_and_prior_status",
        ),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before, ("security", "0002_audit_log_append_only")]).apps
    OldUser, OldAuditLog = old.get_model("accounts", "User"), old.get_model("security", "AuditLog")
    owner = OldUser.objects.create(username="selfdel", email="s@example.com", status="deleted")
    victim = OldUser.objects.create(username="staffdel", email="v@example.com", status="deleted")
    staff = OldUser.objects.create(username="staffer", email="st@example.com")
    for target, actor in ((owner, owner), (victim, staff)):
        OldAuditLog.objects.create(
            action="user.deleted",
            actor_id=actor.pk,
            actor_kind="user",
            target_type="accounts.user",
            target_id=str(target.pk),
            changes={"status": {"before": "pending", "after": "deleted"}},
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([after])

    owner_row, victim_row = (User.objects.get(pk=pk) for pk in (owner.pk, victim.pk))
    assert (owner_row.deleted_by_id, owner_row.status_before_deletion) == (owner.pk, "pending")
    assert victim_row.deleted_by_id == staff.pk


def test_staff_deleting_a_self_deleted_account_takes_its_recovery_away(api_client, user):
    auth = bearer(login(api_client, user.username)["access_token"])
    api_client.delete("/v1/users/account", {"password": DEFAULT_PASSWORD}, format="json", **auth)
    staff = platform_admin_auth(api_client)

    deleted = api_client.delete(f"/api/v1/users/{user.pk}?reason=fraud", **staff)
    user.refresh_from_db()

    assert deleted.status_code == 200
    assert user.deleted_by.username == "platformadmin"
    assert_envelope(_recover(api_client, user), 400, "INVALID_TOKEN")
    user.refresh_from_db()
    assert user.status == User.Status.DELETED
