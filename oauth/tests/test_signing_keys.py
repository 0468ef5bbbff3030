"""The RS256 key: made once, rotated with the old key kept until its tokens expire."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client
from jwcrypto import jwk

from core import signing_keys


def test_keys_file_is_made_private_and_read_back(tmp_path):
    path = tmp_path / "oidc-keys.env"
    made = signing_keys.ensure_oidc_keys(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert signing_keys.read_oidc_keys(path) == made
    assert jwk.JWK.from_pem(made.active.encode()).export_public(as_dict=True)["kty"] == "RSA"
    path.chmod(0o644)
    with pytest.raises(ImproperlyConfigured):
        signing_keys.read_oidc_keys(path)


def test_rotation_keeps_the_old_key_until_its_tokens_expire(tmp_path):
    path = tmp_path / "oidc-keys.env"
    first = signing_keys.ensure_oidc_keys(path).active
    now = datetime.now(UTC)
    rotated = signing_keys.rotate_oidc_keys(path, keep_after=now - timedelta(hours=1), now=now)
    assert rotated.active != first
    assert rotated.inactive_since(now - timedelta(hours=1)) == [first]
    later = now + timedelta(hours=2)
    again = signing_keys.rotate_oidc_keys(path, keep_after=later - timedelta(hours=1), now=later)
    # The first key's tokens have expired: it is no longer published.
    assert again.inactive_since(later - timedelta(hours=1)) == [rotated.active]
    assert signing_keys.read_oidc_keys(path) == again


def test_rotate_command_writes_the_file(tmp_path, settings, monkeypatch, capsys):
    monkeypatch.delenv("OIDC_RSA_PRIVATE_KEY")
    settings.OIDC_KEYS_FILE = tmp_path / "oidc-keys.env"
    call_command("rotate_oidc_key")
    assert len(signing_keys.read_oidc_keys(settings.OIDC_KEYS_FILE).retired) == 1
    assert "Restart the web processes" in capsys.readouterr().out


def test_rotate_command_with_a_key_from_the_environment_changes_nothing(tmp_path, settings, capsys):
    settings.OIDC_KEYS_FILE = tmp_path / "oidc-keys.env"
    call_command("rotate_oidc_key")
    assert not settings.OIDC_KEYS_FILE.exists()
    assert "OIDC_RSA_PRIVATE_KEYS_INACTIVE" in capsys.readouterr().out


def test_jwks_publishes_the_active_and_the_retired_keys(settings, db):
    from oauth2_provider.settings import oauth2_settings

    retired = signing_keys.new_rsa_private_key()
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [retired],
    }
    oauth2_settings.reload()
    try:
        keys = Client().get("/.well-known/jwks.json").json()["keys"]
    finally:
        settings.OAUTH2_PROVIDER = {
            **settings.OAUTH2_PROVIDER,
            "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [],
        }
        oauth2_settings.reload()
    kids = {key["kid"] for key in keys}
    assert jwk.JWK.from_pem(retired.encode()).thumbprint() in kids
    assert len(kids) == 2 and all(key["alg"] == "RS256" for key in keys)
    assert all("d" not in key for key in keys)  # public halves only
