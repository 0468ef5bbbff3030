"""Routes of the support app: health under /api/v1/ (`rest_urlpatterns`), the
admin panel and the support staff API under /v1/ (`v1_urlpatterns`). /health and
/metrics are mounted at the root by config.urls."""

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from support.api import rest_health_views, support_views, v1_views

# Every API route matches with or without a trailing slash, so clients never meet a redirect.
rest_urlpatterns = [
    re_path(r"^health/?$", rest_health_views.HealthView.as_view(), name="health-basic"),
    re_path(r"^health/ready/?$", rest_health_views.ReadinessView.as_view(), name="health-ready"),
    re_path(r"^health/live/?$", rest_health_views.LivenessView.as_view(), name="health-live"),
    re_path(
        r"^health/detailed/?$",
        rest_health_views.DetailedHealthView.as_view(),
        name="health-detailed",
    ),
]

admin_panel_router = SimpleRouter()
admin_panel_router.trailing_slash = "/?"  # match with or without the slash, never redirect
admin_panel_router.register("security-logs", v1_views.SecurityLogViewSet, basename="security-logs")
admin_panel_router.register("audit-logs", v1_views.AuditLogViewSet, basename="audit-logs")
admin_panel_router.register("ip-whitelist", v1_views.IPAllowlistViewSet, basename="ip-whitelist")
admin_panel_router.register("ip-blocks", v1_views.IPBlockViewSet, basename="ip-blocks")
admin_panel_router.register("lockouts", v1_views.LockoutViewSet, basename="lockouts")

_USER = r"^support/users/(?P<pk>\d+)"
_KEY = _USER + r"/api-keys/(?P<key_id>\d+)"
support_views_patterns = [
    re_path(
        r"^support/create/?$",
        support_views.SupportStaffCreateView.as_view(),
        name="v1-support-create",
    ),
    re_path(
        r"^support/login/?$", support_views.SupportLoginView.as_view(), name="v1-support-login"
    ),
    re_path(
        r"^support/profile/?$",
        support_views.SupportProfileView.as_view(),
        name="v1-support-profile",
    ),
    re_path(
        r"^support/permissions/?$",
        support_views.SupportPermissionsView.as_view(),
        name="v1-support-permissions",
    ),
    re_path(
        r"^support/users/?$", support_views.SupportUsersView.as_view(), name="v1-support-users"
    ),
    re_path(_USER + r"/?$", support_views.SupportUserView.as_view(), name="v1-support-user"),
    re_path(
        _USER + r"/reset-password/?$",
        support_views.SupportPasswordResetView.as_view(),
        name="v1-support-user-reset-password",
    ),
    re_path(
        _USER + r"/credits/?$",
        support_views.SupportCreditsView.as_view(),
        name="v1-support-user-credits",
    ),
    re_path(
        _USER + r"/plan/?$", support_views.SupportPlanView.as_view(), name="v1-support-user-plan"
    ),
    re_path(
        _USER + r"/messages/?$",
        support_views.SupportUserMessagesView.as_view(),
        name="v1-support-user-messages",
    ),
    re_path(
        _USER + r"/api-keys/?$",
        support_views.SupportUserApiKeysView.as_view(),
        name="v1-support-user-api-keys",
    ),
    re_path(
        _KEY + r"/revoke/?$",
        support_views.SupportUserApiKeyRevokeView.as_view(),
        name="v1-support-user-api-key-revoke",
    ),
    re_path(
        _KEY + r"/regenerate/?$",
        support_views.SupportUserApiKeyRegenerateView.as_view(),
        name="v1-support-user-api-key-regenerate",
    ),
]

v1_urlpatterns = [
    re_path(r"^admin-panel/users/?$", v1_views.users_view, name="v1-admin-users"),
    re_path(r"^admin-panel/users/(?P<pk>\d+)/?$", v1_views.user_view, name="v1-admin-user"),
    re_path(
        r"^admin-panel/users/(?P<pk>\d+)/plan/?$",
        v1_views.AdminPanelUserPlanView.as_view(),
        name="v1-admin-user-plan",
    ),
    re_path(
        r"^admin-panel/login/?$", v1_views.AdminPanelLoginView.as_view(), name="v1-admin-login"
    ),
    re_path(
        r"^admin-panel/create-admin/?$",
        v1_views.CreateAdminView.as_view(),
        name="v1-admin-create-admin",
    ),
    re_path(
        r"^admin-panel/statistics/?$",
        v1_views.StatisticsView.as_view(),
        name="v1-admin-statistics",
    ),
    re_path(
        r"^admin-panel/message-logs/(?P<user_id>\d+)/?$",
        v1_views.UserMessageLogsView.as_view(),
        name="v1-admin-message-logs",
    ),
    re_path(
        r"^admin-panel/health/?$", v1_views.AdminPanelHealthView.as_view(), name="v1-admin-health"
    ),
    path("admin-panel/", include(admin_panel_router.urls)),
    *support_views_patterns,
]
