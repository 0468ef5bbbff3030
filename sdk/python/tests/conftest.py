"""The SDK against the real service: gunicorn on loopback over the test database.

The service runs once per test module with settings that make the refusals quick
to reach: three logins an hour per account, a lockout after three wrong
passwords, and the firewall off (the wrong passwords come from loopback, as every
other test's calls do). Each test builds its accounts in the database (a tenant
and its admin); everything after that goes through the SDK.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from conftest import LiveService, _start_service

LOGINS_PER_ACCOUNT = 3
FAILED_LOGINS_BEFORE_LOCKOUT = 3
SDK_SERVICE_SETTINGS = {
    "FIREWALL_ENABLED": "false",
    # An hour, not a minute: the limit counts in fixed windows, and a test's logins
    # straddling a window's end would start a fresh count. The cache is emptied per test.
    "RATELIMIT_LOGIN_ACCOUNT": f"{LOGINS_PER_ACCOUNT}/h",
    "MAX_FAILED_LOGIN_ATTEMPTS": str(FAILED_LOGINS_BEFORE_LOCKOUT),
}
PASSWORD = "SecurePass123"

DEVELOPER_PERMISSIONS = ["read:self", "write:self", "read:models", "write:models"]


@pytest.fixture(scope="module")
def sdk_service(django_db_setup, tmp_path_factory) -> Iterator[LiveService]:
    yield from _start_service(tmp_path_factory, SDK_SERVICE_SETTINGS)


@dataclass
class Organisation:
    tenant: object
    admin: object
    other_tenant: object
    other_admin: object


@pytest.fixture
def organisation(transactional_db) -> Organisation:
    """Two tenants, each with an admin holding the built-in admin role."""
    from accounts.models import Role
    from accounts.tests.factories import UserFactory
    from tenants.models import Tenant

    admin_role = Role.objects.get(name="admin", tenant__isnull=True)
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    other = Tenant.objects.create(name="Globex", slug="globex")
    return Organisation(
        tenant=tenant,
        admin=UserFactory(
            username="acme_admin", email="admin@acme.example", tenant=tenant, role=admin_role
        ),
        other_tenant=other,
        other_admin=UserFactory(
            username="globex_admin", email="admin@globex.example", tenant=other, role=admin_role
        ),
    )
