from rest_framework.permissions import BasePermission


class IsPlatformAdmin(BasePermission):
    """Super admins and staff holding the platform-wide admin role."""

    message = "Only platform administrators may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_platform_admin)
