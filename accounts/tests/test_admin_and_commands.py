from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import LoginSession, User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import ME_URL, bearer, login
from security.models import AuditLog


def test_createsuperuser_command_makes_platform_admin(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "RootPass12345")

    call_command(
        "createsuperuser",
        "--noinput",
        "--username",
        "root",
        "--email",
        "Root@Example.com",
        stdout=StringIO(),
    )

    root = User.objects.get(username="root")
    assert (root.is_superuser, root.is_staff, root.status) == (True, True, "active")
    assert root.email == "root@example.com"
    assert root.role.name == "admin"
    assert root.is_platform_admin
    assert root.check_password("RootPass12345")


def test_ensure_demo_admin_creates_once_and_prints_login(db):
    first, second = StringIO(), StringIO()

    call_command("ensure_demo_admin", stdout=first)
    call_command("ensure_demo_admin", stdout=second)

    assert User.objects.filter(is_superuser=True).count() == 1
    output = first.getvalue()
    password = output.split("password: ")[1].split()[0]
    assert User.objects.get(username="admin").check_password(password)
    assert "/api/v1/auth/login" in output
    assert "Admin account: admin" in second.getvalue()
    assert password not in second.getvalue()


def test_ensure_demo_admin_says_where_the_emails_are_without_smtp(db, settings, tmp_path):
    settings.SMTP_HOST = ""
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    output = StringIO()

    call_command("ensure_demo_admin", stdout=output)

    assert f"each is a file in {tmp_path / 'mail'}/" in output.getvalue()


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )
    client.force_login(admin)
    return client


def test_admin_login_page_accepts_superuser(client, db):
    User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "BOSS", "password": "BossPass12345"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_admin_login_refuses_suspended_staff(client, db):
    UserFactory(username="staffer", is_staff=True, status=User.Status.SUSPENDED)

    response = client.post("/admin/login/", {"username": "staffer", "password": "SecurePass123"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/accounts/role/",
        "/admin/accounts/loginsession/",
        "/admin/tenants/tenant/",
        "/admin/token_blacklist/outstandingtoken/",
    ],
)
def test_admin_pages_render(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_admin_user_change_page_renders(admin_client):
    user = UserFactory()

    assert admin_client.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 200


def test_admin_add_user_hashes_password_with_bcrypt(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "added",
            "email": "added@example.com",
            "usable_password": "true",
            "password1": "AddedPass12345",
            "password2": "AddedPass12345",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    assert User.objects.get(username="added").password.startswith("bcrypt_sha256$")


def test_admin_suspend_action_ends_sessions(admin_client, api_client):
    victim = UserFactory()
    tokens = login(api_client, victim.email)

    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "suspend_users", "_selected_action": [victim.pk]},
    )

    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.status == User.Status.SUSPENDED
    assert api_client.get(ME_URL, **bearer(tokens["access_token"])).status_code == 401
    assert LoginSession.objects.get(pk=tokens["session_id"]).revoked_at is not None


def test_admin_revoke_session_action(admin_client, api_client, user):
    tokens = login(api_client, user.email)

    admin_client.post(
        "/admin/accounts/loginsession/",
        {"action": "revoke_sessions", "_selected_action": [tokens["session_id"]]},
    )

    assert api_client.get(ME_URL, **bearer(tokens["access_token"])).status_code == 401


def test_staff_setting_a_password_in_the_admin_site_ends_sessions_and_is_audited(
    api_client, client, db
):
    staff = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory()
    auth = bearer(login(api_client, user.email)["access_token"])
    client.force_login(staff)

    response = client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "Fresh-Pass-4821", "password2": "Fresh-Pass-4821", "usable_password": "true"},
    )

    assert response.status_code == 302, response.content[:400]
    assert User.objects.get(pk=user.pk).check_password("Fresh-Pass-4821")
    assert not LoginSession.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert api_client.get(ME_URL, **auth).status_code == 401
    assert AuditLog.objects.filter(action="user.password_set_by_staff").exists()
