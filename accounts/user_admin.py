"""Temporary: the one name `accounts/api/admin_panel_views.py` imports from here, until
that module (moving to support/) imports `accounts.services.users`. Delete with it."""

from accounts.services.users import user_update_by_admin

__all__ = ["user_update_by_admin"]
