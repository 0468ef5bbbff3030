from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.routers import SimpleRouter

from accounts.api import admin_panel_views
from accounts.api.admin_views import RoleViewSet, UserAdminViewSet
from apikeys.api import urls as apikey_urls
from credits.api import urls as credit_urls
from gateway.api import urls as gateway_urls
from support import health
from support.monitoring import MetricsView
from tenants.api import urls as tenant_urls

router = SimpleRouter()
router.trailing_slash = "/?"  # match with or without the slash, never redirect
router.register("users", UserAdminViewSet, basename="users")
router.register("roles", RoleViewSet, basename="roles")

# Every API route matches with or without a trailing slash, so clients never meet a redirect.
api_v1_patterns = [
    re_path(r"^health/?$", health.HealthView.as_view(), name="health-basic"),
    re_path(r"^health/ready/?$", health.ReadinessView.as_view(), name="health-ready"),
    re_path(r"^health/live/?$", health.LivenessView.as_view(), name="health-live"),
    re_path(r"^health/detailed/?$", health.DetailedHealthView.as_view(), name="health-detailed"),
    path("", include(credit_urls.rest_urlpatterns)),
    path("", include("accounts.api.urls")),
    path("", include(router.urls)),
    path("", include(tenant_urls.rest_urlpatterns)),
    path("", include(apikey_urls.rest_urlpatterns)),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^health/?$", health.HealthView.as_view(), name="health"),
    path("api/v1/", include(api_v1_patterns)),
    path("v1/", include(apikey_urls.v1_urlpatterns)),
    path("v1/users/", include("accounts.api.product_urls")),
    path("v1/", include(gateway_urls.v1_urlpatterns)),
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
