"""The Celery tasks of accounts: the periodic purges."""

from datetime import timedelta

import time_machine
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import LoginSession
from accounts.tasks import purge_deleted_accounts, purge_login_sessions
from accounts.tests.helpers import (
    delete_own_account,
    login,
)


def test_purge_job_removes_old_revoked_and_expired_sessions(api_client, user):
    keep = login(api_client, user.email)
    old = login(api_client, user.email)
    LoginSession.objects.filter(pk=old["session_id"]).update(
        revoked_at=timezone.now() - timedelta(days=31)
    )

    purged = purge_login_sessions.delay().get()

    assert purged == 1
    assert list(LoginSession.objects.values_list("pk", flat=True)) == [
        LoginSession.objects.get(pk=keep["session_id"]).pk
    ]


def test_purge_job_empties_refresh_tokens_recorded_by_older_releases(user):
    now = timezone.now()
    for jti, expired_days_ago in (("old", 31), ("recent", 1)):
        outstanding = OutstandingToken.objects.create(
            user=user,
            jti=jti,
            token=f"token-{jti}",
            expires_at=now - timedelta(days=expired_days_ago),
        )
        BlacklistedToken.objects.create(token=outstanding)

    purge_login_sessions.delay().get()

    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == ["recent"]
    assert list(BlacklistedToken.objects.values_list("token__jti", flat=True)) == ["recent"]


def test_purge_leaves_accounts_inside_the_window(api_client, user):
    delete_own_account(api_client, user)

    with time_machine.travel(timezone.now() + timedelta(days=10)):
        assert purge_deleted_accounts.delay().get() == 0

    user.refresh_from_db()
    assert user.purged_at is None and user.email.endswith("@example.com")
