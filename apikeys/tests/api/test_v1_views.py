"""/v1/users/api-key: the account's primary key, shown masked, regenerated whole."""

from accounts.tests.helpers import assert_envelope, bearer, login
from apikeys.models import APIKey
from apikeys.services import digest_of
from apikeys.tests.helpers import KEY_FORMAT, use_key
from security.models import AuditAction
from security.tests.helpers import audit_row


def test_registration_gives_a_primary_key_stored_only_as_digest(api_client, db):
    body = api_client.post(
        "/v1/users/register",
        {
            "username": "keyed",
            "name": "Keyed User",
            "email": "k@example.com",
            "password": "SecurePass123",
        },
        format="json",
    ).json()

    clear = body["api_key"]
    stored = APIKey.objects.get(user__username="keyed")
    assert KEY_FORMAT.match(clear)
    assert stored.digest == digest_of(clear)
    assert clear not in str(list(APIKey.objects.values()))
    assert use_key(api_client, clear).status_code == 200


def test_without_a_live_primary_key_the_answer_says_how_to_get_one(api_client, owner, key):
    auth = bearer(login(api_client, owner.email)["access_token"])
    api_client.delete(f"/api/v1/api-keys/{APIKey.objects.get(user=owner).pk}", **auth)

    body = api_client.get("/v1/users/api-key", **auth).json()

    assert body["api_key"] is None
    assert "/v1/users/api-key/regenerate" in body["note"]


def test_get_api_key_answers_it_masked_only(api_client, owner, key):
    auth = bearer(login(api_client, owner.email)["access_token"])

    body = api_client.get("/v1/users/api-key", **auth).json()

    assert body["api_key"] == f"pe-{key[3:7]}…{key[-4:]}"
    assert key not in str(body)
    assert "cannot be shown again" in body["note"]


def test_regenerate_kills_the_old_key_at_once(api_client, owner, key):
    auth = bearer(login(api_client, owner.email)["access_token"])
    assert use_key(api_client, key).status_code == 200

    new = api_client.post("/v1/users/api-key/regenerate", **auth).json()["api_key"]

    assert_envelope(use_key(api_client, key), 401)
    assert use_key(api_client, new).status_code == 200
    audit_row(action=AuditAction.API_KEY_REGENERATE)
