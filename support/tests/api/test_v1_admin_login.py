"""POST /v1/admin-panel/login: the /v1/users login for platform admins only."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import LoginSession
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import PASSWORD, assert_envelope, bearer, enrol
from accounts.tests.world import builtin
from tenants.models import Tenant

LOGIN = "/v1/admin-panel/login"


@pytest.fixture
def super_admin(db):
    return UserFactory(
        username="root",
        email="root@example.com",
        is_staff=True,
        is_superuser=True,
        role=builtin("admin"),
    )


@pytest.fixture
def staff_admin(db):
    """A platform admin who is not a super admin: staff with the platform-wide admin role."""
    return UserFactory(
        username="ops", email="ops@example.com", is_staff=True, role=builtin("admin")
    )


@pytest.fixture
def member(db):
    return UserFactory(username="member", email="member@example.com")


def _login(api_client, identifier: str, password: str = PASSWORD, **body):
    key = "email" if "@" in identifier else "username"
    return api_client.post(LOGIN, {key: identifier, "password": password, **body}, format="json")


@pytest.mark.parametrize("who", ["super_admin", "staff_admin"])
@pytest.mark.parametrize("by", ["username", "email"])
def test_a_platform_admin_logs_in_and_gets_an_admin_panel_session(
    api_client, db, request, settings, who, by
):
    settings.ADMIN_SESSION_DURATION_HOURS = 2
    admin = request.getfixturevalue(who)
    started = timezone.now()

    response = _login(api_client, getattr(admin, by))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert body["user"]["username"] == admin.username
    session = LoginSession.objects.get(user=admin)
    assert session.surface == LoginSession.Surface.ADMIN_PANEL
    assert started + timedelta(hours=2) - timedelta(seconds=5) <= session.expires_at
    assert session.expires_at <= timezone.now() + timedelta(hours=2)
    refresh_expires = parse_datetime(body["session"]["refresh_expires_at"])
    assert refresh_expires <= timezone.now() + timedelta(hours=2)
    panel = api_client.get("/v1/admin-panel/users", **bearer(body["session"]["session_token"]))
    assert panel.status_code == 200


@pytest.mark.parametrize("who", ["member", "tenant_admin", "support_staff"])
def test_anyone_else_hears_the_wrong_password_answer_and_gets_no_session(api_client, db, who):
    accounts = {
        "member": lambda: UserFactory(username="member"),
        "tenant_admin": lambda: UserFactory(
            username="tadmin",
            tenant=Tenant.objects.create(name="Acme", slug="acme"),
            role=builtin("admin"),
        ),
        "support_staff": lambda: UserFactory(username="helper", support_level="advanced"),
    }
    user = accounts[who]()
    wrong = _login(api_client, "member-does-not-exist", "WrongPass999")

    response = _login(api_client, user.username)

    refused = assert_envelope(response, 401, "INVALID_CREDENTIALS")
    assert refused["message"] == wrong.json()["message"]
    assert not LoginSession.objects.exists()


def test_non_admin_attempts_with_the_right_password_lock_the_account(api_client, settings, member):
    responses = [
        _login(api_client, member.username) for _ in range(settings.MAX_FAILED_LOGIN_ATTEMPTS)
    ]

    assert [r.status_code for r in responses[:-1]] == [401] * (
        settings.MAX_FAILED_LOGIN_ATTEMPTS - 1
    )
    assert_envelope(responses[-1], 423, "ACCOUNT_LOCKED")
    assert not LoginSession.objects.exists()
    # The ordinary login is locked too: the attempts counted against the account.
    ordinary = api_client.post(
        "/v1/users/login", {"username": member.username, "password": PASSWORD}, format="json"
    )
    assert_envelope(ordinary, 423, "ACCOUNT_LOCKED")


def test_a_wrong_password_of_an_admin_is_401(api_client, super_admin):
    assert_envelope(_login(api_client, "root", "WrongPass999"), 401, "INVALID_CREDENTIALS")
    assert not LoginSession.objects.exists()


def test_an_admin_with_mfa_finishes_with_the_code_and_gets_an_admin_panel_session(
    api_client, super_admin
):
    totp, _codes = enrol(api_client, super_admin)
    LoginSession.objects.all().delete()

    with time_machine.travel(timezone.now() + timedelta(seconds=90), tick=True):
        first = _login(api_client, "root")
        assert first.status_code == 200, first.content
        assert first.json()["mfa_required"] is True
        assert not LoginSession.objects.exists()

        response = api_client.post(
            "/v1/users/login/mfa",
            {"mfa_token": first.json()["mfa_token"], "code": totp.now()},
            format="json",
        )

    assert response.status_code == 200, response.content
    session = LoginSession.objects.get(user=super_admin)
    assert session.surface == LoginSession.Surface.ADMIN_PANEL
    assert session.mfa_verified is True


def test_the_login_route_matches_with_a_trailing_slash(api_client, super_admin):
    response = api_client.post(
        LOGIN + "/", {"username": "root", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
