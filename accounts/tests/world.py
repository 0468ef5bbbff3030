"""A small two-tenant world for the authorization tests, with a token per actor."""

from dataclasses import dataclass

from accounts.models import Role, User
from accounts.sessions import ClientInfo, session_start
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
)


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
        if actor == "anonymous":
            return {}
        pair = session_start(user=self.users[actor], client=ClientInfo("127.0.0.1", "tests"))
        return {"HTTP_AUTHORIZATION": f"Bearer {pair.access}"}


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
