"""The sign-in page shares the API login's defences."""

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import DEFAULT_PASSWORD
from security.models import SecurityEvent


@pytest.fixture
def browser():
    return Client()


def _sign_in(browser, identifier, password=DEFAULT_PASSWORD):
    return browser.post("/oauth/login/", {"username": identifier, "password": password})


def test_the_account_rate_limit_is_shared_with_the_api_login(browser, api_client, settings, db):
    settings.RATELIMIT_LOGIN_ACCOUNT = "2/h"  # an hour: no window ends mid-test
    user = UserFactory()
    api_client.post("/api/v1/auth/login", {"email": user.username, "password": "x"}, format="json")
    assert _sign_in(browser, user.username, "wrong").status_code == 401
    limited = _sign_in(browser, user.username)
    assert limited.status_code == 429 and "Too many requests" in limited.content.decode()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.RATE_LIMITED).exists()


def test_a_locked_account_is_refused_even_with_the_right_password(browser, settings, db):
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(browser, user.username, "wrong")
    locked = _sign_in(browser, user.username)
    assert locked.status_code == 423 and "locked" in locked.content.decode().lower()
    assert "_auth_user_id" not in browser.session


def test_a_signed_in_browser_holds_an_oauth_login_session(browser, db):
    from accounts.models import LoginSession
    from security.models import AuditLog

    user = UserFactory()
    answer = _sign_in(browser, user.username)
    assert answer.status_code == 302 and answer["Location"] == "/oauth/authorize/"
    session = LoginSession.objects.get(user=user)
    assert session.surface == "oauth"
    assert browser.session["oauth_login_session_id"] == str(session.pk)
    assert AuditLog.objects.filter(action="session.start", target_id=str(session.pk)).exists()


def test_sign_in_page_refuses_a_forged_form(db):
    strict = Client(enforce_csrf_checks=True)
    user = UserFactory()
    assert _sign_in(strict, user.username).status_code == 403
