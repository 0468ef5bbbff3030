"""Built-in roles and the permission strings they hold (`action:resource`)."""

from django.db import models


class BuiltinRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    MODERATOR = "moderator", "Moderator"
    USER = "user", "User"
    GUEST = "guest", "Guest"


class Permission(models.TextChoices):
    READ_SELF = "read:self", "Read own profile"
    WRITE_SELF = "write:self", "Change own profile"
    READ_USERS = "read:users", "Read users of the tenant"
    WRITE_USERS = "write:users", "Change users of the tenant"
    DELETE_USERS = "delete:users", "Delete users of the tenant"
    MANAGE_ROLES = "manage:roles", "Manage roles of the tenant"
    MANAGE_TENANT = "manage:tenant", "Manage the tenant's settings"
    READ_MODELS = "read:models", "Use models"
    WRITE_MODELS = "write:models", "Change models"


_GUEST = [Permission.READ_SELF, Permission.READ_MODELS]
_USER = [*_GUEST, Permission.WRITE_SELF, Permission.WRITE_MODELS]
_MODERATOR = [*_USER, Permission.READ_USERS, Permission.WRITE_USERS]
_ADMIN = [*_MODERATOR, Permission.DELETE_USERS, Permission.MANAGE_ROLES, Permission.MANAGE_TENANT]

BUILTIN_ROLE_PERMISSIONS: dict[str, list[str]] = {
    BuiltinRole.ADMIN: [str(p) for p in _ADMIN],
    BuiltinRole.MODERATOR: [str(p) for p in _MODERATOR],
    BuiltinRole.USER: [str(p) for p in _USER],
    BuiltinRole.GUEST: [str(p) for p in _GUEST],
}

BUILTIN_ROLE_DESCRIPTIONS: dict[str, str] = {
    BuiltinRole.ADMIN: "Full access within its tenant; platform-wide without a tenant.",
    BuiltinRole.MODERATOR: "Manages users within its tenant.",
    BuiltinRole.USER: "Manages its own profile and uses models.",
    BuiltinRole.GUEST: "Read-only access.",
}


def ensure_builtin_roles(role_model) -> None:
    """Create or repair the four built-in roles (used by a migration and by tests)."""
    for name, permissions in BUILTIN_ROLE_PERMISSIONS.items():
        role_model.objects.update_or_create(
            name=name,
            tenant=None,
            defaults={
                "permissions": permissions,
                "description": BUILTIN_ROLE_DESCRIPTIONS[name],
                "is_builtin": True,
            },
        )
