"""The admin site: Django's, under the staff rules (`security.staff`).

With ADMIN_REQUIRE_MFA the login asks for an authenticator code, and a session that
has not verified an OTP device is sent back to it; with IP_WHITELIST_ENABLED every
page, the login included, answers 403 to an address not on the allowlist. The
settings are read on every request, so turning them on needs no code change.
"""

from functools import update_wrapper

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from core.envelope import error_response
from security.client_ip import client_ip
from security.context import credential_publish
from security.staff import StaffRule, staff_address_refused, staff_refusal_record, staff_rule_broken
from support.dashboard import admin_dashboard


class ServiceAdminSite(AdminSite):
    site_header = "User management"
    site_title = "User management admin"
    index_title = "Users, keys, credits and the security trail"
    # "View site" opens the API documentation: the service has no page at /.
    site_url = "/docs"
    # The index with the dashboard (support.dashboard) above the app list.
    index_template = "admin/dashboard_index.html"

    # Names on the index for third-party records an operator does act on.
    _RENAMED_APPS = {"axes": "Lockouts"}
    _RENAMED_MODELS = {("axes", "AccessAttempt"): "Failed logins and lockouts"}

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            app["name"] = self._RENAMED_APPS.get(app["app_label"], app["name"])
            for model in app["models"]:
                model["name"] = self._RENAMED_MODELS.get(
                    (app["app_label"], model["object_name"]), model["name"]
                )
        return app_list

    def index(self, request, extra_context=None):
        """The platform's figures are for platform admins only: a staff account of a
        tenant (model permissions, no platform power) sees the app list alone."""
        if request.user.is_platform_admin:
            dashboard = admin_dashboard(actor=request.user)
            extra_context = {**(extra_context or {}), "dashboard": dashboard}
        return super().index(request, extra_context)

    @property
    def login_form(self):
        return OTPAdminAuthenticationForm if settings.ADMIN_REQUIRE_MFA else AdminAuthenticationForm

    @property
    def login_template(self):
        return OTPAdminSite.login_template if settings.ADMIN_REQUIRE_MFA else None

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and (
            staff_rule_broken(
                ip_address=client_ip(request), mfa_verified=request.user.is_verified()
            )
            is None
        )

    def login(self, request, extra_context=None):
        return self._refused_address(request) or super().login(request, extra_context)

    def admin_view(self, view, cacheable=False):
        """Every admin page: a foreign address is refused before anything else, and
        the services a page calls see the session's credential, as an API call's."""

        def as_staff(request, *args, **kwargs):
            credential_publish(user_id=request.user.pk, mfa_verified=request.user.is_verified())
            return view(request, *args, **kwargs)

        checked = super().admin_view(update_wrapper(as_staff, view), cacheable)

        def from_allowed_address(request, *args, **kwargs):
            return self._refused_address(request) or checked(request, *args, **kwargs)

        return update_wrapper(from_allowed_address, checked)

    @staticmethod
    def _refused_address(request):
        if not staff_address_refused(client_ip(request)):
            return None
        staff_refusal_record(rule=StaffRule.IP_NOT_ALLOWLISTED)
        return error_response(
            403,
            message="This address may not reach the staff surfaces.",
            code=StaffRule.IP_NOT_ALLOWLISTED,
            request=request,
        )
