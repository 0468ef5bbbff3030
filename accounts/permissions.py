from django.conf import settings
from rest_framework.permissions import BasePermission

from accounts.tokens import MFA_CLAIM


class IsPlatformAdmin(BasePermission):
    """Super admins and staff holding the platform-wide admin role."""

    message = "Only platform administrators may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_platform_admin):
            return False
        if settings.ADMIN_REQUIRE_MFA and not _token_has_mfa(request):
            self.message = "Staff must log in with MFA (ADMIN_REQUIRE_MFA)."
            return False
        return True


def _token_has_mfa(request) -> bool:
    token = getattr(request, "auth", None)
    return bool(token is not None and hasattr(token, "get") and token.get(MFA_CLAIM))
