"""The per-request check of an access token: cached session state, and its owner."""

import jwt
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.auth.request_auth import user_for_access_token
from accounts.auth.request_cache import forget_changed_user
from accounts.models import LoginSession, User
from accounts.services.sessions import session_revoke
from accounts.services.users import user_status_set
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import ME_URL, REFRESH_URL, assert_envelope, bearer, login, post_refresh
from core.tests.cache import clear_cache


def test_suspension_refuses_existing_tokens_at_once(api_client, logged_in):
    user, tokens = logged_in

    user_status_set(user=user, status=User.Status.SUSPENDED, actor=None)

    assert_envelope(api_client.get(ME_URL, **bearer(tokens["access_token"])), 401)
    assert_envelope(post_refresh(api_client, tokens["refresh_token"]), 401)
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


PROFILE_URLS = [ME_URL, "/v1/users/profile"]


def _resigned(token: str, **changes) -> str:
    claims = jwt.decode(token, settings.JWT_SECRET_KEY, algorithms=["HS256"])
    return jwt.encode({**claims, **changes}, settings.JWT_SECRET_KEY, algorithm="HS256")


@pytest.fixture
def attacker_and_victim(api_client, db):
    attacker, victim = UserFactory(), UserFactory()
    return (
        (attacker, login(api_client, attacker.email)),
        (victim, login(api_client, victim.email)),
    )


def _borrowed_tokens(attacker_and_victim) -> dict[str, str]:
    (_, attacker_tokens), (victim, victim_tokens) = attacker_and_victim
    return {
        "victim_id_attacker_session": _resigned(
            attacker_tokens["access_token"], user_id=str(victim.pk)
        ),
        "attacker_id_victim_session": _resigned(
            attacker_tokens["access_token"], sid=victim_tokens["session_id"]
        ),
        "victim_id_as_number": _resigned(attacker_tokens["access_token"], user_id=victim.pk),
    }


@pytest.mark.parametrize("url", PROFILE_URLS)
@pytest.mark.parametrize(
    "kind", ["victim_id_attacker_session", "attacker_id_victim_session", "victim_id_as_number"]
)
@pytest.mark.parametrize("cached", [True, False], ids=["cached", "uncached"])
def test_a_token_naming_another_user_than_its_session_is_refused(
    api_client, attacker_and_victim, url, kind, cached
):
    (_, attacker_tokens), (victim, victim_tokens) = attacker_and_victim
    if cached:
        # Both sessions' states are in the cache (and the process's copies) first.
        for tokens in (attacker_tokens, victim_tokens):
            assert api_client.get(url, **bearer(tokens["access_token"])).status_code == 200
    else:
        clear_cache()

    response = api_client.get(url, **bearer(_borrowed_tokens(attacker_and_victim)[kind]))

    assert_envelope(response, 401)
    assert victim.email not in response.content.decode()
    for tokens in (attacker_tokens, victim_tokens):
        assert api_client.get(url, **bearer(tokens["access_token"])).status_code == 200


def test_a_refresh_token_naming_another_user_is_refused(api_client, attacker_and_victim):
    (_, attacker_tokens), (victim, _) = attacker_and_victim
    forged = _resigned(attacker_tokens["refresh_token"], user_id=str(victim.pk))

    response = api_client.post(REFRESH_URL, {"refresh_token": forged}, format="json")

    assert_envelope(response, 401, "INVALID_TOKEN")
    refreshed = api_client.post(
        REFRESH_URL, {"refresh_token": attacker_tokens["refresh_token"]}, format="json"
    )
    assert refreshed.status_code == 200


@pytest.mark.parametrize("user_id", ["not-a-number", "1.5", True, ["1"]])
def test_a_signed_refresh_token_with_a_malformed_user_id_is_401(
    api_client, attacker_and_victim, user_id
):
    (_, attacker_tokens), _ = attacker_and_victim
    forged = _resigned(attacker_tokens["refresh_token"], user_id=user_id)

    response = api_client.post(REFRESH_URL, {"refresh_token": forged}, format="json")

    assert_envelope(response, 401, "INVALID_TOKEN")
