"""How long a login lasts, read off the tokens and the session row a login hands out.

The /v1/users login hands out a session token of SESSION_DURATION_HOURS and a refresh
token of REFRESH_TOKEN_DURATION_DAYS; /api/v1/auth/login the JWT_* lifetimes
(REFRESH_TOKEN_DURATION_DAYS with `remember_me`). Staff sessions end
ADMIN_/SUPPORT_SESSION_DURATION_HOURS after the login whatever opened them, and no
refresh moves them past it. Revocation is immediate on every surface, and MFA and a
password change keep the surface of the login they finish or replace.
"""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from django.utils import timezone

from accounts.auth.request_cache import forget_cached_user
from accounts.models import LoginSession, User
from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import ME_URL, PASSWORD, assert_envelope, bearer

API_LOGIN, API_REFRESH = "/api/v1/auth/login", "/api/v1/auth/refresh"
V1_LOGIN, V1_REFRESH = "/v1/users/login", "/v1/users/refresh"
# Between the test's clock readings and the server's stamps (tokens count whole
# seconds, a loaded machine is slow); the lifetimes checked are hours and days.
SLACK = timedelta(seconds=60)


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _exp(token: str) -> datetime:
    return datetime.fromtimestamp(_claims(token)["exp"], tz=UTC)


def _lifetime(token: str) -> timedelta:
    claims = _claims(token)
    return timedelta(seconds=claims["exp"] - claims["iat"])


def _tokens(body: dict) -> tuple[str, str]:
    """(access, refresh) from either API's answer."""
    if "session" in body:
        return body["session"]["session_token"], body["session"]["refresh_token"]
    return body["access_token"], body["refresh_token"]


def _session_of(token: str) -> LoginSession:
    return LoginSession.objects.get(pk=_claims(token)["sid"])


def _log_in(api_client, url: str, user, **fields) -> tuple[str, str]:
    response = api_client.post(
        url, {"email": user.email, "password": PASSWORD, **fields}, format="json"
    )
    assert response.status_code == 200, response.json()
    return _tokens(response.json())


def _refresh(api_client, url: str, refresh_token: str):
    return api_client.post(url, {"refresh_token": refresh_token}, format="json")


def _close(moment: datetime, expected: datetime) -> bool:
    return abs(moment - expected) <= SLACK


# ----- /v1/users/login -------------------------------------------------------------


@pytest.mark.parametrize(("hours", "days"), [(24, 30), (2, 3)])
def test_v1_login_follows_session_and_refresh_durations(api_client, user, settings, hours, days):
    settings.SESSION_DURATION_HOURS = hours
    settings.REFRESH_TOKEN_DURATION_DAYS = days

    access, refresh = _log_in(api_client, V1_LOGIN, user)

    session = _session_of(access)
    assert session.surface == LoginSession.Surface.USERS
    assert _lifetime(access) == timedelta(hours=hours)
    assert _close(session.expires_at, session.created_at + timedelta(days=days))
    assert _close(_exp(refresh), session.expires_at)
    assert _exp(refresh) <= session.expires_at


def test_the_defaults_are_24_hours_and_30_days(settings):
    assert (settings.SESSION_DURATION_HOURS, settings.REFRESH_TOKEN_DURATION_DAYS) == (24, 30)
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] == timedelta(minutes=30)
    assert settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] == timedelta(days=7)
    assert settings.ADMIN_SESSION_DURATION_HOURS == 24
    assert settings.SUPPORT_SESSION_DURATION_HOURS == 12


def test_a_v1_refresh_slides_the_session_and_keeps_its_durations(api_client, user):
    _, refresh = _log_in(api_client, V1_LOGIN, user)

    with time_machine.travel(timezone.now() + timedelta(days=2)):
        response = _refresh(api_client, V1_REFRESH, refresh)
        now = timezone.now()

    assert response.status_code == 200, response.json()
    access, refresh = _tokens(response.json())
    assert _lifetime(access) == timedelta(hours=24)
    assert _close(_session_of(access).expires_at, now + timedelta(days=30))


# ----- /api/v1/auth/login ----------------------------------------------------------


@pytest.mark.parametrize(
    ("remember_me", "session_lifetime"), [(False, timedelta(days=7)), (True, timedelta(days=30))]
)
def test_api_login_gives_jwt_lifetimes(api_client, user, remember_me, session_lifetime):
    access, refresh = _log_in(api_client, API_LOGIN, user, remember_me=remember_me)

    session = _session_of(access)
    assert session.surface == LoginSession.Surface.API
    assert _lifetime(access) == timedelta(minutes=30)
    assert _close(session.expires_at, session.created_at + session_lifetime)
    assert _close(_exp(refresh), session.expires_at)


@pytest.mark.parametrize(
    ("remember_me", "session_lifetime"), [(False, timedelta(days=2)), (True, timedelta(days=9))]
)
def test_api_login_follows_the_settings(api_client, user, settings, remember_me, session_lifetime):
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
        "REFRESH_TOKEN_LIFETIME": timedelta(days=2),
    }
    settings.REFRESH_TOKEN_DURATION_DAYS = 9

    access, refresh = _log_in(api_client, API_LOGIN, user, remember_me=remember_me)

    session = _session_of(access)
    assert _lifetime(access) == timedelta(minutes=5)
    assert _close(session.expires_at, session.created_at + session_lifetime)
    assert _close(_exp(refresh), session.expires_at)


# ----- staff caps -------------------------------------------------------------------


def _platform_admin():
    return UserFactory(username="root", is_staff=True, is_superuser=True, tenant=None)


def _support_member():
    return UserFactory(username="supporter", support_level=User.SupportLevel.SUPPORT)


STAFF = {
    "platform admin": (_platform_admin, "ADMIN_SESSION_DURATION_HOURS"),
    "staff flag": (
        lambda: UserFactory(username="clerk", is_staff=True),
        "ADMIN_SESSION_DURATION_HOURS",
    ),
    "support staff": (_support_member, "SUPPORT_SESSION_DURATION_HOURS"),
}
LOGINS = {
    "/v1/users/login": (V1_LOGIN, {}),
    "/api/v1/auth/login": (API_LOGIN, {}),
    "/api/v1/auth/login remember_me": (API_LOGIN, {"remember_me": True}),
}


@pytest.mark.parametrize("login", LOGINS)
@pytest.mark.parametrize("staff", STAFF)
def test_a_staff_session_ends_at_its_cap(api_client, db, settings, staff, login):
    make, setting = STAFF[staff]
    setattr(settings, setting, 6)
    url, fields = LOGINS[login]

    access, refresh = _log_in(api_client, url, make(), **fields)

    session = _session_of(access)
    end = session.created_at + timedelta(hours=6)
    assert session.expires_at == end
    assert _exp(refresh) <= end and _close(_exp(refresh), end)
    assert _exp(access) <= end


def test_support_staff_sessions_end_after_12_hours_by_default(api_client, db):
    access, _ = _log_in(api_client, V1_LOGIN, _support_member())

    session = _session_of(access)
    assert session.expires_at == session.created_at + timedelta(hours=12)
    # The 24-hour session token is cut to the session's end.
    assert _close(_exp(access), session.expires_at) and _exp(access) <= session.expires_at


def test_an_ordinary_account_has_no_cap(api_client, user, settings):
    settings.ADMIN_SESSION_DURATION_HOURS = 1
    settings.SUPPORT_SESSION_DURATION_HOURS = 1

    access, _ = _log_in(api_client, V1_LOGIN, user)

    assert _lifetime(access) == timedelta(hours=24)


@pytest.mark.parametrize(("url", "refresh_url"), [(V1_LOGIN, V1_REFRESH), (API_LOGIN, API_REFRESH)])
@pytest.mark.parametrize("staff", STAFF)
def test_a_refresh_near_the_cap_does_not_extend_it(
    api_client, db, settings, staff, url, refresh_url
):
    make, setting = STAFF[staff]
    setattr(settings, setting, 6)
    access, refresh = _log_in(api_client, url, make(), remember_me=True)
    end = _session_of(access).created_at + timedelta(hours=6)

    with time_machine.travel(end - timedelta(minutes=10)):
        response = _refresh(api_client, refresh_url, refresh)
    assert response.status_code == 200, response.json()
    access, refresh = _tokens(response.json())
    assert _session_of(access).expires_at == end
    assert _exp(access) <= end and _exp(refresh) <= end
    assert _close(_exp(access), end)

    with time_machine.travel(end + timedelta(seconds=1)):
        assert_envelope(_refresh(api_client, refresh_url, refresh), 401, "INVALID_TOKEN")
        assert_envelope(api_client.get(ME_URL, **bearer(access)), 401)


def test_an_account_made_staff_after_its_cap_cannot_refresh_an_older_session(api_client, user):
    access, refresh = _log_in(api_client, V1_LOGIN, user)
    assert api_client.get(ME_URL, **bearer(access)).status_code == 200
    User.objects.filter(pk=user.pk).update(support_level=User.SupportLevel.NEW)
    forget_cached_user(user.pk)  # as every service that changes a rights field does

    with time_machine.travel(timezone.now() + timedelta(hours=13)):
        refused = _refresh(api_client, V1_REFRESH, refresh)
        after = api_client.get(ME_URL, **bearer(access))

    assert_envelope(refused, 401, "INVALID_TOKEN")
    assert_envelope(after, 401)
    session = _session_of(access)
    assert session.expires_at == session.created_at + timedelta(hours=12)


# ----- revocation -------------------------------------------------------------------


@pytest.mark.parametrize("logout", ["/api/v1/auth/logout", "/v1/users/logout"])
@pytest.mark.parametrize("surface", LoginSession.Surface.values)
def test_logout_refuses_the_access_token_at_once(api_client, user, surface, logout):
    auth = bearer(
        session_start(user=user, client=ClientInfo("127.0.0.1", "t"), surface=surface).access
    )
    assert api_client.get(ME_URL, **auth).status_code == 200  # the live state is cached

    assert api_client.post(logout, **auth).status_code == 200

    assert_envelope(api_client.get(ME_URL, **auth), 401, "SESSION_REVOKED")
    assert_envelope(api_client.get("/v1/users/profile", **auth), 401, "SESSION_REVOKED")


@pytest.mark.parametrize("surface", LoginSession.Surface.values)
def test_a_session_ended_from_another_is_refused_at_once(api_client, user, surface):
    client = ClientInfo("127.0.0.1", "t")
    doomed = session_start(user=user, client=client, surface=surface)
    other = bearer(session_start(user=user, client=client).access)
    assert api_client.get(ME_URL, **bearer(doomed.access)).status_code == 200

    ended = api_client.delete(f"/api/v1/users/me/sessions/{doomed.session_id}", **other)

    assert ended.status_code == 200
    assert_envelope(api_client.get(ME_URL, **bearer(doomed.access)), 401, "SESSION_REVOKED")
    assert_envelope(_refresh(api_client, API_REFRESH, doomed.refresh), 401, "INVALID_TOKEN")


# ----- MFA and password change keep the surface ---------------------------------------


@pytest.mark.parametrize(
    ("login", "verify", "surface", "access_lifetime"),
    [
        (V1_LOGIN, "/v1/users/login/mfa", "users", timedelta(hours=24)),
        (API_LOGIN, "/api/v1/auth/mfa/verify", "api", timedelta(minutes=30)),
        # The code step finishes the login that asked for it, wherever it is sent.
        (V1_LOGIN, "/api/v1/auth/mfa/verify", "users", timedelta(hours=24)),
        (API_LOGIN, "/v1/users/login/mfa", "api", timedelta(minutes=30)),
    ],
)
def test_mfa_completion_keeps_the_surface_of_the_login(
    api_client, enrolled, login, verify, surface, access_lifetime
):
    user, totp, _ = enrolled
    step = api_client.post(login, {"email": user.email, "password": PASSWORD}, format="json")
    assert step.json()["mfa_required"] is True

    response = api_client.post(
        verify, {"mfa_token": step.json()["mfa_token"], "code": totp.now()}, format="json"
    )

    assert response.status_code == 200, response.json()
    access, _ = _tokens(response.json())
    assert _session_of(access).surface == surface
    assert _session_of(access).mfa_verified
    assert _lifetime(access) == access_lifetime


@pytest.mark.parametrize(
    ("login", "fields", "change", "surface", "access_lifetime", "session_lifetime"),
    [
        (V1_LOGIN, {}, ("put", "/v1/users/password"), "users", timedelta(hours=24), 30),
        (V1_LOGIN, {}, ("post", "/api/v1/auth/change-password"), "users", timedelta(hours=24), 30),
        (API_LOGIN, {}, ("put", "/v1/users/password"), "api", timedelta(minutes=30), 7),
        (
            API_LOGIN,
            {"remember_me": True},
            ("post", "/api/v1/users/me/change-password"),
            "api",
            timedelta(minutes=30),
            30,
        ),
    ],
)
def test_a_password_change_keeps_the_surface_of_the_session(
    api_client, user, login, fields, change, surface, access_lifetime, session_lifetime
):
    old_access, _ = _log_in(api_client, login, user, **fields)
    method, url = change

    response = getattr(api_client, method)(
        url,
        {"current_password": PASSWORD, "new_password": "BrandNewPass456"},
        format="json",
        **bearer(old_access),
    )

    assert response.status_code == 200, response.json()
    access, _ = _tokens(response.json())
    session = _session_of(access)
    assert session.surface == surface
    assert session.remember_me is bool(fields)
    assert _lifetime(access) == access_lifetime
    assert _close(session.expires_at, session.created_at + timedelta(days=session_lifetime))
    assert_envelope(api_client.get(ME_URL, **bearer(old_access)), 401, "SESSION_REVOKED")


def test_a_staff_password_change_keeps_the_cap(api_client, db, settings):
    settings.SUPPORT_SESSION_DURATION_HOURS = 3
    supporter = _support_member()
    old_access, _ = _log_in(api_client, V1_LOGIN, supporter)

    response = api_client.put(
        "/v1/users/password",
        {"current_password": PASSWORD, "new_password": "BrandNewPass456"},
        format="json",
        **bearer(old_access),
    )

    access, _ = _tokens(response.json())
    session = _session_of(access)
    assert session.expires_at == session.created_at + timedelta(hours=3)
    assert _exp(access) <= session.expires_at
