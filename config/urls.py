from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.routers import SimpleRouter

from accounts.api import admin_panel_views
from accounts.api import urls as accounts_urls
from apikeys.api import APIKeyViewSet, ProductAPIKeyRegenerateView, ProductAPIKeyView
from credits.api import MyCreditsView, UserCreditsView
from gateway.api import BatchView, CompletionView
from support import health
from support.monitoring import MetricsView
from tenants.api.views import TenantViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # match with or without the slash, never redirect
router.register("tenants", TenantViewSet, basename="tenants")
router.register("api-keys", APIKeyViewSet, basename="api-keys")

# Every API route matches with or without a trailing slash, so clients never meet a redirect.
api_v1_patterns = [
    re_path(r"^health/?$", health.HealthView.as_view(), name="health-basic"),
    re_path(r"^health/ready/?$", health.ReadinessView.as_view(), name="health-ready"),
    re_path(r"^health/live/?$", health.LivenessView.as_view(), name="health-live"),
    re_path(r"^health/detailed/?$", health.DetailedHealthView.as_view(), name="health-detailed"),
    re_path(r"^users/me/credits/?$", MyCreditsView.as_view(), name="my-credits"),
    re_path(r"^users/(?P<user_id>\d+)/credits/?$", UserCreditsView.as_view(), name="user-credits"),
    path("", include(accounts_urls.rest_urlpatterns)),
    path("", include(router.urls)),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^health/?$", health.HealthView.as_view(), name="health"),
    path("api/v1/", include(api_v1_patterns)),
    re_path(r"^v1/users/api-key/?$", ProductAPIKeyView.as_view(), name="v1-api-key"),
    re_path(
        r"^v1/users/api-key/regenerate/?$",
        ProductAPIKeyRegenerateView.as_view(),
        name="v1-api-key-regenerate",
    ),
    path("v1/users/", include(accounts_urls.v1_urlpatterns)),
    re_path(r"^v1/prompt/completions/?$", CompletionView.as_view(), name="v1-completions"),
    re_path(r"^v1/batch/process/?$", BatchView.as_view(), name="v1-batch"),
    re_path(r"^v1/admin-panel/users/?$", admin_panel_views.users_view, name="v1-admin-users"),
    re_path(
        r"^v1/admin-panel/users/(?P<pk>\d+)/?$",
        admin_panel_views.user_view,
        name="v1-admin-user",
    ),
    path("v1/admin-panel/", include("security.api.urls")),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="openapi-schema"), name="redoc"),
    path("metrics", MetricsView.as_view(), name="prometheus-metrics"),
]

handler500 = "core.middleware.server_error"
