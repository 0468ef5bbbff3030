"""A small two-tenant world for the authorization tests, with a token per actor."""

from dataclasses import dataclass

from accounts.models import Role, User
from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import UserFactory
from tenants.models import Tenant

ACTORS = (
    "anonymous",
    "guest",
    "user",
    "moderator",
    "tenant_admin",
    "other_admin",
    "platform_admin",
    "admin_without_mfa",
    "admin_from_foreign_ip",
)
# The platform admin breaking one staff rule, and the code of the refusal it hears.
STAFF_RULE_CODES = {
    "admin_without_mfa": "MFA_REQUIRED",
    "admin_from_foreign_ip": "IP_NOT_ALLOWLISTED",
}
FOREIGN_IP = "203.0.113.7"


def builtin(name: str) -> Role:
    return Role.objects.get(name=name, tenant__isnull=True)


@dataclass
class World:
    tenant_a: Tenant
    tenant_b: Tenant
    users: dict[str, User]
    member: User
    other_member: User

    def auth(self, actor: str) -> dict:
        """Request headers for the actor: a login session of theirs, from their address.

        The platform admin's session passed MFA; the two staff-rule breakers are the
        same admin without MFA, or with MFA but from FOREIGN_IP."""
        if actor == "anonymous":
            return {}
        user = self.users["platform_admin" if actor in STAFF_RULE_CODES else actor]
        pair = session_start(
            user=user,
            client=ClientInfo("127.0.0.1", "tests"),
            mfa_verified=actor in {"platform_admin", "admin_from_foreign_ip"},
        )
        headers = {"HTTP_AUTHORIZATION": f"Bearer {pair.access}"}
        if actor == "admin_from_foreign_ip":
            headers["REMOTE_ADDR"] = FOREIGN_IP
        return headers


def build_world() -> World:
    tenant_a = Tenant.objects.create(name="Acme", slug="acme")
    tenant_b = Tenant.objects.create(name="Globex", slug="globex")
    users = {
        "guest": UserFactory(username="guest_a", tenant=tenant_a, role=builtin("guest")),
        "user": UserFactory(username="user_a", tenant=tenant_a, role=builtin("user")),
        "moderator": UserFactory(username="mod_a", tenant=tenant_a, role=builtin("moderator")),
        "tenant_admin": UserFactory(username="admin_a", tenant=tenant_a, role=builtin("admin")),
        "other_admin": UserFactory(username="admin_b", tenant=tenant_b, role=builtin("admin")),
        "platform_admin": UserFactory(
            username="root", is_staff=True, is_superuser=True, role=builtin("admin")
        ),
    }
    member = UserFactory(username="member_a", tenant=tenant_a, role=builtin("user"))
    other_member = UserFactory(username="member_b", tenant=tenant_b, role=builtin("user"))
    return World(tenant_a, tenant_b, users, member, other_member)
