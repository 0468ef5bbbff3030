"""The admin site: Django's, asking for an authenticator code when ADMIN_REQUIRE_MFA is on.

The setting is read on every request, so turning it on needs no code change.
"""

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


class ServiceAdminSite(AdminSite):
    site_header = "User management"
    site_title = "User management admin"

    @property
    def login_form(self):
        return OTPAdminAuthenticationForm if settings.ADMIN_REQUIRE_MFA else AdminAuthenticationForm

    @property
    def login_template(self):
        return OTPAdminSite.login_template if settings.ADMIN_REQUIRE_MFA else None

    def has_permission(self, request) -> bool:
        allowed = super().has_permission(request)
        if allowed and settings.ADMIN_REQUIRE_MFA:
            return request.user.is_verified()
        return allowed
