"""The built-in roles and their permissions."""

from accounts.tests.world import builtin


def test_builtin_role_permissions_follow_the_documented_table(db):
    perms = {
        name: set(builtin(name).permissions) for name in ("admin", "moderator", "user", "guest")
    }

    assert perms["guest"] == {"read:self", "read:models"}
    assert perms["guest"] < perms["user"] < perms["moderator"] < perms["admin"]
    assert {"read:users", "write:users"} <= perms["moderator"]
    assert "delete:users" not in perms["moderator"]
    assert {"delete:users", "manage:roles", "manage:tenant"} <= perms["admin"]
