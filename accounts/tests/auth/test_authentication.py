"""DRF authentication by session-bound access tokens."""

from datetime import timedelta

from django.utils import timezone

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    ME_URL,
    PASSWORD,
    assert_envelope,
    bearer,
    login,
)


def test_expired_password_allows_only_changing_it(api_client, db, settings):
    settings.PASSWORD_EXPIRY_DAYS = 90
    user = UserFactory(password_changed_at=timezone.now() - timedelta(days=91))

    tokens = login(api_client, user.email)
    auth = bearer(tokens["access_token"])
    blocked = api_client.get(ME_URL, **auth)
    changed = api_client.post(
        "/api/v1/auth/change-password",
        {"current_password": PASSWORD, "new_password": "BrandNewPass456"},
        format="json",
        **auth,
    )

    assert tokens["password_expired"] is True
    assert_envelope(blocked, 403, "PASSWORD_EXPIRED")
    assert changed.status_code == 200
    assert changed.json()["password_expired"] is False
    assert api_client.get(ME_URL, **bearer(changed.json()["access_token"])).status_code == 200
