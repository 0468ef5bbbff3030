"""A token signed with the real key opens only the account whose session it carries.

The signing key is secret, but the check must not rest on that alone: a token that
names one user and carries another user's session id is refused, whether the
session's state is answered from the cache or read from its row.
"""

import jwt
import pytest
from django.conf import settings

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import ME_URL, REFRESH_URL, assert_envelope, bearer, login
from core.tests.cache import clear_cache

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
