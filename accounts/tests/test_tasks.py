"""The Celery tasks of accounts: the periodic purges."""

from datetime import timedelta

import time_machine
from django.utils import timezone

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


def test_purge_leaves_accounts_inside_the_window(api_client, user):
    delete_own_account(api_client, user)

    with time_machine.travel(timezone.now() + timedelta(days=10)):
        assert purge_deleted_accounts.delay().get() == 0

    user.refresh_from_db()
    assert user.purged_at is None and user.email.endswith("@example.com")
