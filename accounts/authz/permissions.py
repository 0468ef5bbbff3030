"""DRF permission classes built on the authorization rules."""

from rest_framework.permissions import BasePermission

from accounts.authz import rules as authz


class IsPlatformAdmin(BasePermission):
    """Super admins and staff holding the platform-wide admin role, under the staff
    rules (`authz.is_platform_admin` answers 403 with the broken rule's code)."""

    message = "Only platform administrators may do this."

    def has_permission(self, request, view) -> bool:
        return authz.is_platform_admin(request.user)
