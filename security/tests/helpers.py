from rest_framework.test import APIClient

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import LOGIN_URL, bearer, login
from security.models import AuditLog


def attempt(client: APIClient, identifier: str, password: str, url: str = LOGIN_URL, **extra):
    return client.post(url, {"email": identifier, "password": password}, format="json", **extra)


def platform_admin_auth(client: APIClient) -> dict:
    """Log a platform admin in (from its own IP) and return the Authorization header."""
    admin = UserFactory(username="platformadmin", is_staff=True, is_superuser=True)
    tokens = login(client, admin.username, DEFAULT_PASSWORD, REMOTE_ADDR="10.9.9.9")
    return {**bearer(tokens["access_token"]), "REMOTE_ADDR": "10.9.9.9"}


def audit_rows(**filters) -> list[AuditLog]:
    """The audit rows matching `filters`, oldest first; asserts there is at least one."""
    rows = list(AuditLog.objects.filter(**filters).order_by("id"))
    assert rows, f"no audit row matches {filters}"
    return rows


def audit_row(**filters) -> AuditLog:
    """The newest audit row matching `filters`; asserts it exists."""
    return audit_rows(**filters)[-1]
