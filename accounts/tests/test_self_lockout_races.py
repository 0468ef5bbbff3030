"""The last active superuser survives two admins taking each other out at the same
moment: each request checks the others while the other's change is not committed."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import UserFactory
from accounts.tests.world import builtin
from security.models import AuditLog

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite runs one writing transaction at a time"
)


def _auth(user: User) -> dict:
    pair = session_start(user=user, client=ClientInfo("127.0.0.1", "tests"), mfa_verified=True)
    return {"HTTP_AUTHORIZATION": f"Bearer {pair.access}"}


def _superuser(username: str) -> User:
    return UserFactory(username=username, is_staff=True, is_superuser=True, role=builtin("admin"))


def _waiting_backends() -> int:
    """Backends of this database waiting on a lock, read afresh: PostgreSQL otherwise
    answers from the snapshot it took at the transaction's first statistics read."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _at_once(requests) -> list:
    """Run the requests in threads while the audit table refuses writes, so each one
    stops at its first audit row (past its checks); let them go when all wait."""
    results: list = [None] * len(requests)

    def run(index, send):
        try:
            results[index] = send()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(requests)]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {AuditLog._meta.db_table} IN SHARE MODE")
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while _waiting_backends() < len(requests):
            assert time.monotonic() < deadline, "the requests never all waited on the lock"
            time.sleep(0.05)
    for thread in threads:
        thread.join(30)
    return results


def test_two_admins_suspending_each_other_at_once_leave_one_superuser(transactional_db):
    ada, bob = _superuser("ada"), _superuser("bob")
    ada_auth, bob_auth = _auth(ada), _auth(bob)

    responses = _at_once(
        [
            lambda: APIClient().post(
                f"/api/v1/users/{bob.pk}/status", {"status": "suspended"}, format="json", **ada_auth
            ),
            lambda: APIClient().post(
                f"/api/v1/users/{ada.pk}/status", {"status": "suspended"}, format="json", **bob_auth
            ),
        ]
    )

    assert sorted(response.status_code for response in responses) == [200, 409]
    assert User.objects.filter(is_superuser=True, status=User.Status.ACTIVE).count() == 1


def test_two_admins_deleting_each_other_at_once_leave_one_superuser(transactional_db):
    ada, bob = _superuser("ada"), _superuser("bob")
    ada_auth, bob_auth = _auth(ada), _auth(bob)

    responses = _at_once(
        [
            lambda: APIClient().delete(f"/api/v1/users/{bob.pk}", **ada_auth),
            lambda: APIClient().delete(f"/v1/admin-panel/users/{ada.pk}", **bob_auth),
        ]
    )

    assert sorted(response.status_code for response in responses) == [200, 409]
    assert User.objects.filter(is_superuser=True, status=User.Status.ACTIVE).count() == 1
