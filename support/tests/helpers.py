"""A support staff world for the /v1/support tests: the two-tenant world of the
account tests plus one staff member per level and reach (tenant A, every tenant)."""

from dataclasses import dataclass

from accounts.models import LoginSession, User
from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import UserFactory
from accounts.tests.world import World, build_world, builtin

LEVELS = tuple(User.SupportLevel)
REACHES = ("tenant", "global")


def staff_name(level: str, reach: str) -> str:
    return f"staff_{level}_{reach}"


def make_staff(level: str, *, tenant=None, username: str | None = None) -> User:
    return UserFactory(
        username=username or f"staff_{level}_{tenant.slug if tenant else 'all'}",
        tenant=tenant,
        role=builtin("guest"),
        support_level=level,
    )


def staff_auth(user: User) -> dict:
    """Headers of a support-login session of `user`."""
    pair = session_start(
        user=user, client=ClientInfo("127.0.0.1", "tests"), surface=LoginSession.Surface.SUPPORT
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {pair.access}"}


@dataclass
class StaffWorld:
    world: World
    staff: dict[str, User]

    def auth(self, name: str) -> dict:
        if name in self.staff:
            return staff_auth(self.staff[name])
        return self.world.auth(name)


def build_staff_world() -> StaffWorld:
    world = build_world()
    staff = {
        staff_name(level, reach): make_staff(
            level, tenant=world.tenant_a if reach == "tenant" else None
        )
        for level in LEVELS
        for reach in REACHES
    }
    return StaffWorld(world=world, staff=staff)
