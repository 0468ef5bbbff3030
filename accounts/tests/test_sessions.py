import base64
import json
from datetime import timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.auth.request_auth import user_for_access_token
from accounts.auth.request_cache import forget_changed_user
from accounts.models import LoginSession, User
from accounts.services.sessions import session_revoke
from accounts.services.users import user_status_set
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import LOGOUT_URL, ME_URL, REFRESH_URL, assert_envelope, bearer, login
from core.tests.cache import clear_cache


@pytest.fixture
def logged_in(api_client, user):
    return user, login(api_client, user.email)


def _refresh(api_client, token: str, url: str = REFRESH_URL):
    return api_client.post(url, {"refresh_token": token}, format="json")


def test_refresh_rotates_and_the_new_pair_works(api_client, logged_in):
    _, tokens = logged_in

    response = _refresh(api_client, tokens["refresh_token"])

    assert response.status_code == 200
    rotated = response.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["session_id"] == tokens["session_id"]
    assert api_client.get(ME_URL, **bearer(rotated["access_token"])).status_code == 200
    old_jti = RefreshToken(tokens["refresh_token"], verify=False)["jti"]
    assert BlacklistedToken.objects.filter(token__jti=old_jti).exists()


def test_reusing_rotated_refresh_token_revokes_whole_session(api_client, logged_in):
    _, tokens = logged_in
    rotated = _refresh(api_client, tokens["refresh_token"]).json()

    reuse = _refresh(api_client, tokens["refresh_token"])

    assert_envelope(reuse, 401, "REFRESH_TOKEN_REUSED")
    session = LoginSession.objects.get(pk=tokens["session_id"])
    assert session.revoked_reason == LoginSession.RevokeReason.REFRESH_REUSE
    assert_envelope(
        api_client.get(ME_URL, **bearer(rotated["access_token"])), 401, "SESSION_REVOKED"
    )
    assert_envelope(_refresh(api_client, rotated["refresh_token"]), 401, "INVALID_TOKEN")


def test_v1_refresh_answers_session_shape(api_client, logged_in):
    _, tokens = logged_in

    response = _refresh(api_client, tokens["refresh_token"], "/v1/users/refresh")

    body = response.json()
    assert response.status_code == 200
    assert body["success"] is True
    assert set(body["session"]) == {
        "session_token",
        "refresh_token",
        "expires_at",
        "refresh_expires_at",
    }


@pytest.mark.parametrize("url", [LOGOUT_URL, "/v1/users/logout"])
def test_access_token_refused_right_after_logout(api_client, logged_in, url):
    _, tokens = logged_in
    auth = bearer(tokens["access_token"])
    assert api_client.get(ME_URL, **auth).status_code == 200

    assert api_client.post(url, **auth).status_code == 200

    assert_envelope(api_client.get(ME_URL, **auth), 401, "SESSION_REVOKED")
    assert_envelope(_refresh(api_client, tokens["refresh_token"]), 401)


def test_logout_ends_only_the_current_session(api_client, user):
    first = login(api_client, user.email)
    second = login(api_client, user.email)

    api_client.post(LOGOUT_URL, **bearer(first["access_token"]))

    assert api_client.get(ME_URL, **bearer(second["access_token"])).status_code == 200


@pytest.mark.parametrize(
    ("url", "method", "body"),
    [
        ("/api/v1/auth/change-password", "post", {"current_password": "SecurePass123"}),
        ("/api/v1/users/me/change-password", "post", {"current_password": "SecurePass123"}),
        ("/v1/users/password", "put", {"current_password": "SecurePass123"}),
    ],
)
def test_password_change_revokes_every_session_and_returns_a_new_one(
    api_client, user, url, method, body
):
    first = login(api_client, user.email)
    other = login(api_client, user.email)

    response = getattr(api_client, method)(
        url,
        {**body, "new_password": "BrandNewPass456"},
        format="json",
        **bearer(first["access_token"]),
    )

    assert response.status_code == 200, response.json()
    for old in (first, other):
        assert_envelope(
            api_client.get(ME_URL, **bearer(old["access_token"])), 401, "SESSION_REVOKED"
        )
        assert_envelope(_refresh(api_client, old["refresh_token"]), 401)
    new_access = response.json().get("access_token") or response.json()["session"]["session_token"]
    assert api_client.get(ME_URL, **bearer(new_access)).status_code == 200
    user.refresh_from_db()
    assert user.check_password("BrandNewPass456")
    assert login(api_client, user.email, "BrandNewPass456")


def test_password_change_with_wrong_current_password_changes_nothing(api_client, logged_in):
    user, tokens = logged_in

    response = api_client.post(
        "/api/v1/auth/change-password",
        {"current_password": "WrongPass999", "new_password": "BrandNewPass456"},
        format="json",
        **bearer(tokens["access_token"]),
    )

    assert_envelope(response, 400, "INVALID_CURRENT_PASSWORD")
    user.refresh_from_db()
    assert user.check_password("SecurePass123")
    assert api_client.get(ME_URL, **bearer(tokens["access_token"])).status_code == 200


def test_password_change_checks_policy(api_client, logged_in):
    _, tokens = logged_in

    response = api_client.post(
        "/api/v1/auth/change-password",
        {"current_password": "SecurePass123", "new_password": "weak"},
        format="json",
        **bearer(tokens["access_token"]),
    )

    body = assert_envelope(response, 400, "WEAK_PASSWORD")
    assert len(body["errors"]) >= 3


def test_suspension_refuses_existing_tokens_at_once(api_client, logged_in):
    user, tokens = logged_in

    user_status_set(user=user, status=User.Status.SUSPENDED, actor=None)

    assert_envelope(api_client.get(ME_URL, **bearer(tokens["access_token"])), 401)
    assert_envelope(_refresh(api_client, tokens["refresh_token"]), 401)
    assert LoginSession.objects.get(pk=tokens["session_id"]).revoked_reason == "status_change"


def test_session_state_is_cached_after_first_check(logged_in):
    user, tokens = logged_in
    check = {"session_id": tokens["session_id"], "user_id": str(user.pk)}
    assert user_for_access_token(**check) == user

    with CaptureQueriesContext(connection) as queries:
        assert user_for_access_token(**check) == user

    assert not [q for q in queries.captured_queries if "accounts_loginsession" in q["sql"]]


def test_revocation_overrides_cached_active_state(logged_in):
    user, tokens = logged_in
    check = {"session_id": tokens["session_id"], "user_id": str(user.pk)}
    assert user_for_access_token(**check) == user

    session_revoke(
        session_id=tokens["session_id"], reason=LoginSession.RevokeReason.REVOKED, actor=None
    )

    assert user_for_access_token(**check) is None


# ----- forged and misused tokens -------------------------------------------------


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _forgeries(tokens: dict) -> dict[str, str]:
    access = tokens["access_token"]
    header, payload, signature = access.split(".")
    claims = _claims(access)
    return {
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "wrong_key": jwt.encode(claims, "x" * 64, algorithm="HS256"),
        "tampered_payload": f"{header}.{_b64({**claims, 'user_id': '999999'})}.{signature}",
        "refresh_as_access": tokens["refresh_token"],
        "garbage": "not.a.jwt",
        "no_session_claim": jwt.encode(
            {k: v for k, v in claims.items() if k != "sid"},
            settings.JWT_SECRET_KEY,
            algorithm="HS256",
        ),
        "unknown_session": jwt.encode(
            {**claims, "sid": "00000000-0000-0000-0000-000000000000"},
            settings.JWT_SECRET_KEY,
            algorithm="HS256",
        ),
        "hs512_same_key": jwt.encode(claims, settings.JWT_SECRET_KEY, algorithm="HS512"),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "alg_none",
        "wrong_key",
        "tampered_payload",
        "refresh_as_access",
        "garbage",
        "no_session_claim",
        "unknown_session",
        "hs512_same_key",
    ],
)
def test_forged_access_tokens_are_401(api_client, logged_in, kind):
    _, tokens = logged_in

    response = api_client.get(ME_URL, **bearer(_forgeries(tokens)[kind]))

    assert_envelope(response, 401)


def test_expired_access_token_is_401(api_client, logged_in):
    _, tokens = logged_in

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = api_client.get(ME_URL, **bearer(tokens["access_token"]))

    assert_envelope(response, 401)


def test_expired_refresh_token_is_401(api_client, logged_in):
    _, tokens = logged_in

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = _refresh(api_client, tokens["refresh_token"])

    assert_envelope(response, 401, "INVALID_TOKEN")


@pytest.mark.parametrize("kind", ["access", "forged_signature", "alg_none"])
def test_refresh_endpoint_refuses_non_refresh_tokens(api_client, logged_in, kind):
    _, tokens = logged_in
    claims = _claims(tokens["refresh_token"])
    token = {
        "access": tokens["access_token"],
        "forged_signature": jwt.encode(claims, "y" * 64, algorithm="HS256"),
        "alg_none": f"{_b64({'alg': 'none'})}.{_b64(claims)}.",
    }[kind]

    assert_envelope(_refresh(api_client, token), 401, "INVALID_TOKEN")
    assert LoginSession.objects.get(pk=tokens["session_id"]).revoked_at is None


def test_missing_token_is_401_envelope(api_client, db):
    assert_envelope(api_client.get(ME_URL), 401, "NOT_AUTHENTICATED")


def test_user_with_other_user_id_claim_cannot_switch_account(api_client, user):
    other = UserFactory()
    tokens = login(api_client, user.email)
    claims = {**_claims(tokens["access_token"]), "user_id": str(other.pk)}
    forged = jwt.encode(claims, "z" * 64, algorithm="HS256")

    assert_envelope(api_client.get(ME_URL, **bearer(forged)), 401)


def _model_queries(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("SELECT", "INSERT", "UPDATE", "DELETE"))
        and "cache_entries" not in q["sql"]
    ]


def test_warm_authenticated_request_reads_no_model_rows(api_client, logged_in):
    _, tokens = logged_in
    auth = bearer(tokens["access_token"])
    api_client.get(ME_URL, **auth)

    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(ME_URL, **auth).status_code == 200

    assert _model_queries(queries) == []


def test_cold_authenticated_request_loads_user_with_role_in_one_query(api_client, logged_in):
    _, tokens = logged_in
    clear_cache()

    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(ME_URL, **bearer(tokens["access_token"])).status_code == 200

    user_queries = [q for q in _model_queries(queries) if 'FROM "accounts_user"' in q]
    assert len(user_queries) == 1
    assert "accounts_role" in user_queries[0]


def test_profile_change_is_visible_on_the_next_request(api_client, logged_in):
    _, tokens = logged_in
    auth = bearer(tokens["access_token"])
    api_client.get(ME_URL, **auth)

    api_client.patch(ME_URL, {"first_name": "Renamed"}, format="json", **auth)

    assert api_client.get(ME_URL, **auth).json()["first_name"] == "Renamed"


def test_token_of_user_suspended_by_a_plain_save_is_refused(api_client, logged_in):
    user, tokens = logged_in
    api_client.get(ME_URL, **bearer(tokens["access_token"]))  # the user is now cached
    user.status = User.Status.SUSPENDED
    user.save(update_fields=["status"])  # as the admin's change form does,
    forget_changed_user(user, ["status"])  # and then drops the cached copy

    assert_envelope(api_client.get(ME_URL, **bearer(tokens["access_token"])), 401, "USER_INACTIVE")
