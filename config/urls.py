from django.contrib import admin
from django.urls import include, path, re_path
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from config import health

# Every API route matches with or without a trailing slash, so clients never meet a redirect.
api_v1_patterns = [
    re_path(r"^health/?$", health.HealthView.as_view(), name="health-basic"),
    re_path(r"^health/ready/?$", health.ReadinessView.as_view(), name="health-ready"),
    re_path(r"^health/live/?$", health.LivenessView.as_view(), name="health-live"),
    re_path(r"^health/detailed/?$", health.DetailedHealthView.as_view(), name="health-detailed"),
    path("", include("accounts.api.urls")),
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
