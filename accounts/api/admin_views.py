"""Temporary: the one name `accounts/api/admin_panel_views.py` imports from here, until
that module (moving to support/) imports `accounts.api.rest_users_views`. Delete with it."""

from accounts.api.rest_users_views import UserAdminViewSet

__all__ = ["UserAdminViewSet"]
