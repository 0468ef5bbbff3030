from django.contrib import admin
from django.urls import include, path, re_path
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.routers import SimpleRouter

from accounts.api.admin_views import RoleViewSet, UserAdminViewSet
from config import health
from tenants.api.views import TenantViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # match with or without the slash, never redirect
router.register("users", UserAdminViewSet, basename="users")
router.register("roles", RoleViewSet, basename="roles")
router.register("tenants", TenantViewSet, basename="tenants")

# Every API route matches with or without a trailing slash, so clients never meet a redirect.
api_v1_patterns = [
    re_path(r"^health/?$", health.HealthView.as_view(), name="health-basic"),
    re_path(r"^health/ready/?$", health.ReadinessView.as_view(), name="health-ready"),
    re_path(r"^health/live/?$", health.LivenessView.as_view(), name="health-live"),
    re_path(r"^health/detailed/?$", health.DetailedHealthView.as_view(), name="health-detailed"),
    path("", include("accounts.api.urls")),
    path("", include(router.urls)),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^health/?$", health.HealthView.as_view(), name="health"),
    path("api/v1/", include(api_v1_patterns)),
    path("v1/users/", include("accounts.api.product_urls")),
    path("v1/admin-panel/", include("security.api.urls")),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="openapi-schema"), name="redoc"),
    path("metrics", ExportToDjangoView, name="prometheus-metrics"),
]
