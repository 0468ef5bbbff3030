"""The password policy: validators (PASSWORD_POLICY) and expiry (PASSWORD_EXPIRY_DAYS)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    assert_envelope,
    login,
    register_with_password,
)
from config.tests.settings_probe import setting_values


def test_password_expiry_off_by_default(api_client, db):
    user = UserFactory(password_changed_at=timezone.now() - timedelta(days=3650))

    assert login(api_client, user.email)["password_expired"] is False


class TestNistPolicy:
    @pytest.fixture(autouse=True)
    def nist(self, settings):
        settings.AUTH_PASSWORD_VALIDATORS = [
            {"NAME": "accounts.auth.password_policy.NistLengthValidator"},
            {"NAME": "accounts.auth.password_policy.MaximumLengthValidator"},
            {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        ]

    def test_nist_needs_fifteen_characters_without_mfa(self, api_client, db):
        body = assert_envelope(
            register_with_password(api_client, "Abcdefgh12345x"), 400, "WEAK_PASSWORD"
        )

        assert any("at least 15" in error for error in body["errors"])

    def test_nist_has_no_composition_rules(self, api_client, db):
        assert register_with_password(api_client, "correct horse battery staple").status_code == 201

    def test_nist_still_blocks_common_passwords(self, api_client, db):
        body = assert_envelope(register_with_password(api_client, "1q2w3e4r5t6y7u8i9o0p"), 400)

        assert any("too common" in error for error in body["errors"])


@pytest.mark.parametrize(
    ("policy", "present", "absent"),
    [
        ("nist", "NistLengthValidator", "CompositionValidator"),
        ("default", "CompositionValidator", "NistLengthValidator"),
    ],
)
def test_password_policy_setting_selects_validators(policy, present, absent):
    values = setting_values({"PASSWORD_POLICY": policy}, "AUTH_PASSWORD_VALIDATORS")

    names = [entry["NAME"].rsplit(".", 1)[-1] for entry in values["AUTH_PASSWORD_VALIDATORS"]]
    assert present in names
    assert absent not in names
    assert "CommonPasswordValidator" in names
