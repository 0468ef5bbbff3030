"""Password hashing (PASSWORD_HASHERS) and the round trip of passwords through login."""

from unittest import mock

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, make_password

from accounts.auth.hashers import ConfiguredBCryptSHA256PasswordHasher
from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    LOGIN_URL,
    assert_envelope,
    register_with_password,
)
from config.tests.settings_probe import setting_values


def test_hash_is_bcrypt_sha256_at_configured_rounds(db, settings):
    settings.BCRYPT_ROUNDS = 5

    encoded = make_password("SecurePass123")

    assert encoded.startswith("bcrypt_sha256$$2b$05$")


def test_bcrypt_rounds_default_twelve_and_read_from_environment():
    assert setting_values({}, "BCRYPT_ROUNDS") == {"BCRYPT_ROUNDS": 12}
    assert setting_values({"BCRYPT_ROUNDS": "14"}, "BCRYPT_ROUNDS") == {"BCRYPT_ROUNDS": 14}


def test_hash_made_at_other_cost_is_upgraded_on_login(api_client, db, settings):
    settings.BCRYPT_ROUNDS = 4
    user = UserFactory(username="upgrader")
    settings.BCRYPT_ROUNDS = 5

    api_client.post(LOGIN_URL, {"username": "upgrader", "password": "SecurePass123"}, format="json")

    user.refresh_from_db()
    assert user.password.startswith("bcrypt_sha256$$2b$05$")


def test_argon2_hash_is_accepted_and_upgraded_to_bcrypt(api_client, db):
    user = UserFactory(username="argonaut")
    user.password = Argon2PasswordHasher().encode("SecurePass123", Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])

    response = api_client.post(
        LOGIN_URL, {"username": "argonaut", "password": "SecurePass123"}, format="json"
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("bcrypt_sha256$")


@pytest.mark.parametrize(
    "password",
    [
        "Aa1" + "x" * 125,  # 128 characters
        "Aa1" + "y" * 997,  # 1000 characters
        "Pässwörd-Ünïcödé-1-Ωmega-密码-🔑",
    ],
)
def test_long_and_unicode_passwords_round_trip_exactly(api_client, db, password):
    assert register_with_password(api_client, password).status_code == 201

    ok = api_client.post(LOGIN_URL, {"username": "pwuser", "password": password}, format="json")
    near = api_client.post(
        LOGIN_URL, {"username": "pwuser", "password": password[:-1]}, format="json"
    )

    assert ok.status_code == 200
    assert near.status_code == 401


def test_passwords_sharing_first_72_bytes_are_different(api_client, db):
    prefix = "Aa1" + "z" * 69
    assert register_with_password(api_client, prefix + "tail-one").status_code == 201

    response = api_client.post(
        LOGIN_URL, {"username": "pwuser", "password": prefix + "tail-two"}, format="json"
    )

    assert response.status_code == 401


def test_absurdly_long_password_is_refused_before_hashing(api_client, db):
    huge = "Aa1" + "x" * 1_000_000
    with mock.patch.object(ConfiguredBCryptSHA256PasswordHasher, "encode", autospec=True) as encode:
        register = register_with_password(api_client, huge)
        login = api_client.post(LOGIN_URL, {"username": "pwuser", "password": huge}, format="json")

    body = assert_envelope(register, 400, "VALIDATION_ERROR")
    assert any(error.startswith("password:") for error in body["errors"])
    assert_envelope(login, 400)
    encode.assert_not_called()
    assert not User.objects.exists()


def test_password_is_not_trimmed(api_client, db):
    assert register_with_password(api_client, "  SecurePass123  ").status_code == 201

    trimmed = api_client.post(
        LOGIN_URL, {"username": "pwuser", "password": "SecurePass123"}, format="json"
    )

    assert trimmed.status_code == 401
