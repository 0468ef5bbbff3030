"""Django authentication backends."""

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.auth.hashers import hash_for_timing
from security.lockout import account_for_identifier


class EmailOrUsernameBackend(ModelBackend):
    """Authenticate by email or username, either in any letter case.

    The account's status is judged after the password is proven, by the login
    service, so a suspended user hears why and a stranger learns nothing.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs,
    ):
        identifier = username or kwargs.get("email")
        if not identifier or password is None:
            return None
        user = account_for_identifier(identifier, request=request)
        if user is None or not user.has_usable_password():
            # A missing account (or one without a password) costs what a wrong password does.
            hash_for_timing(password)
            return None
        if user.check_password(password):
            return user
        return None

    def user_can_authenticate(self, user) -> bool:
        return True

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        """Platform admins hold every permission of the admin site: roles are the one
        permission system, and what only a super admin may do the services ask."""
        if user_obj.is_active and getattr(user_obj, "is_platform_admin", False):
            return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        if user_obj.is_active and getattr(user_obj, "is_platform_admin", False):
            return True
        return super().has_module_perms(user_obj, app_label)
