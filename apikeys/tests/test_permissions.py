"""A key does no more than its scopes allow, nor more than its owner may."""

from accounts.models import Role
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope
from apikeys.services import apikey_create
from apikeys.tests.helpers import use_key


def test_scopes_are_enforced_and_never_exceed_the_owner(api_client, db):
    owner = UserFactory()
    narrow = apikey_create(user=owner, name="narrow", scopes=["write:models"], actor=owner).clear
    guest_role = Role.objects.create(name="no_models", permissions=["read:self"])
    powerless = UserFactory(role=guest_role)
    full = apikey_create(
        user=powerless, name="full", scopes=["read", "write"], actor=powerless
    ).clear

    assert_envelope(use_key(api_client, narrow), 403)
    assert_envelope(use_key(api_client, full), 403)


def test_a_key_can_do_no_more_than_its_scopes_outside_the_models_too(api_client, owner):
    models_only = apikey_create(
        user=owner, name="models", scopes=["write:models"], actor=owner
    ).clear
    every_read = apikey_create(user=owner, name="reads", scopes=["read:*"], actor=owner).clear
    credits_url = "/api/v1/users/me/credits"

    refused = api_client.get(credits_url, HTTP_AUTHORIZATION=f"Bearer {models_only}")
    allowed = api_client.get(credits_url, HTTP_AUTHORIZATION=f"Bearer {every_read}")

    assert_envelope(refused, 403)
    assert allowed.status_code == 200
    assert use_key(api_client, every_read).status_code == 200
