"""Password hashing (PASSWORD_HASHERS) and the round trip of passwords through login."""

from unittest import mock

import pytest
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    check_password,
    get_hasher,
    make_password,
)

from accounts.auth.hashers import ConfiguredBCryptSHA256PasswordHasher
from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    LOGIN_URL,
    PASSWORD,
    assert_envelope,
    register_with_password,
)
from config.tests.settings_probe import run_django, setting_values


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


# ----- argon2id (PASSWORD_HASH_ALGORITHM) -----------------------------------------

ARGON2_FIRST = [
    "accounts.auth.hashers.ConfiguredArgon2PasswordHasher",
    "accounts.auth.hashers.ConfiguredBCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


@pytest.fixture
def argon2id(settings):
    """argon2id configured, with parameters other than the defaults so that a hash
    shows they were read."""
    settings.PASSWORD_HASHERS = ARGON2_FIRST
    settings.ARGON2_TIME_COST = 3
    settings.ARGON2_MEMORY_COST_KIB = 4096
    settings.ARGON2_PARALLELISM = 2
    return "argon2$argon2id$v=19$m=4096,t=3,p=2$"


def _log_in(api_client, username: str, password: str = PASSWORD):
    return api_client.post(LOGIN_URL, {"username": username, "password": password}, format="json")


def test_the_defaults_are_bcrypt_and_keycloaks_argon2id_parameters():
    names = ("PASSWORD_HASH_ALGORITHM", "ARGON2_TIME_COST", "ARGON2_MEMORY_COST_KIB")
    assert setting_values({}, *names, "ARGON2_PARALLELISM", "PASSWORD_HASHERS") == {
        "PASSWORD_HASH_ALGORITHM": "bcrypt",
        "ARGON2_TIME_COST": 5,
        "ARGON2_MEMORY_COST_KIB": 7168,
        "ARGON2_PARALLELISM": 1,
        "PASSWORD_HASHERS": [ARGON2_FIRST[1], ARGON2_FIRST[0], ARGON2_FIRST[2]],
    }
    chosen = setting_values({"PASSWORD_HASH_ALGORITHM": "argon2id"}, "PASSWORD_HASHERS")
    assert chosen == {"PASSWORD_HASHERS": ARGON2_FIRST}


def test_argon2id_hashes_with_the_configured_parameters(db, argon2id):
    encoded = make_password("SecurePass123")

    assert encoded.startswith(argon2id)
    assert check_password("SecurePass123", encoded)


def test_a_bcrypt_hash_logs_in_and_comes_out_argon2id(api_client, db, settings, argon2id):
    settings.PASSWORD_HASHERS = ARGON2_FIRST[1:2] + ARGON2_FIRST[:1]
    user = UserFactory(username="migrant")
    assert user.password.startswith("bcrypt_sha256$")
    settings.PASSWORD_HASHERS = ARGON2_FIRST

    response = _log_in(api_client, "migrant")

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.password.startswith(argon2id)
    assert _log_in(api_client, "migrant").status_code == 200


def test_an_argon2_hash_of_other_parameters_is_remade_on_login(api_client, db, settings, argon2id):
    user = UserFactory(username="argonaut")
    settings.ARGON2_TIME_COST = 4
    user.set_password("SecurePass123")
    user.save(update_fields=["password"])
    assert "t=4" in user.password
    settings.ARGON2_TIME_COST = 3

    assert _log_in(api_client, "argonaut").status_code == 200

    user.refresh_from_db()
    assert user.password.startswith(argon2id)


def test_a_wrong_password_leaves_the_old_hash(api_client, db, settings, argon2id):
    settings.PASSWORD_HASHERS = ARGON2_FIRST[1:2] + ARGON2_FIRST[:1]
    user = UserFactory(username="migrant")
    before = user.password
    settings.PASSWORD_HASHERS = ARGON2_FIRST

    assert_envelope(_log_in(api_client, "migrant", "WrongPass123"), 401, "INVALID_CREDENTIALS")

    user.refresh_from_db()
    assert user.password == before


@pytest.mark.parametrize("configured", ["bcrypt", "argon2id"])
def test_an_unknown_account_costs_one_hash_of_the_configured_hasher(
    api_client, db, settings, argon2id, configured
):
    """The missing account and the wrong password each run the configured hasher once,
    so their timings match whichever algorithm is chosen."""
    if configured == "bcrypt":
        settings.PASSWORD_HASHERS = ARGON2_FIRST[1:2] + ARGON2_FIRST[:1]
    UserFactory(username="present")
    hasher = get_hasher("default")
    hasher_class = type(hasher)
    with (
        mock.patch.object(
            hasher_class, "encode", autospec=True, side_effect=hasher_class.encode
        ) as encode,
        mock.patch.object(
            hasher_class, "verify", autospec=True, side_effect=hasher_class.verify
        ) as verify,
    ):
        missing = _log_in(api_client, "nobody-here", "WrongPass123")
        hashed_for_missing = (encode.call_count, verify.call_count)
        wrong = _log_in(api_client, "present", "WrongPass123")

    assert hasher.algorithm == ("argon2" if configured == "argon2id" else "bcrypt_sha256")
    assert_envelope(missing, 401, "INVALID_CREDENTIALS")
    assert_envelope(wrong, 401, "INVALID_CREDENTIALS")
    assert hashed_for_missing == (1, 0)
    # bcrypt's `verify` hashes through `encode`; argon2's checks on its own.
    encoded_by_verify = 1 if configured == "bcrypt" else 0
    assert (encode.call_count, verify.call_count) == (1 + encoded_by_verify, 1)


def test_an_account_without_a_password_costs_one_hash_too(api_client, db, argon2id):
    user = UserFactory(username="nopassword")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    hasher_class = type(get_hasher("default"))
    with mock.patch.object(
        hasher_class, "encode", autospec=True, side_effect=hasher_class.encode
    ) as encode:
        refused = _log_in(api_client, "nopassword", "WrongPass123")

    assert_envelope(refused, 401, "INVALID_CREDENTIALS")
    assert encode.call_count == 1


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PASSWORD_HASH_ALGORITHM": "scrypt"}, "PASSWORD_HASH_ALGORITHM must be 'bcrypt' or"),
        ({"ARGON2_TIME_COST": "0"}, "ARGON2_TIME_COST must be 1 to 1000"),
        ({"ARGON2_MEMORY_COST_KIB": "7"}, "ARGON2_MEMORY_COST_KIB must be 8 (8 per lane)"),
        (
            {"ARGON2_PARALLELISM": "4", "ARGON2_MEMORY_COST_KIB": "16"},
            "ARGON2_MEMORY_COST_KIB must be 32 (8 per lane)",
        ),
        ({"ARGON2_PARALLELISM": "0"}, "ARGON2_PARALLELISM must be 1 to 255"),
        ({"ARGON2_TIME_COST": "five"}, "ARGON2_TIME_COST"),
        ({"BCRYPT_ROUNDS": "3"}, "BCRYPT_ROUNDS must be 4 to 31"),
    ],
)
def test_bad_hash_settings_stop_the_start(env, message):
    result = run_django("", env, check=False)

    assert result.returncode != 0
    assert message in result.stderr
