from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from accounts.api import urls as accounts_urls
from apikeys.api import urls as apikey_urls
from credits.api import urls as credit_urls
from events.api import urls as event_urls
from gateway.api import urls as gateway_urls
from messagelog.api import urls as messagelog_urls
from oauth import urls as oauth_urls
from oauth.api import urls as oauth_api_urls
from support.api import urls as support_urls
from support.api.rest_health_views import HealthView, MetricsView
from tenants.api import urls as tenant_urls
from webhooks.api import urls as webhook_urls

# Every API route matches with or without a trailing slash, so clients never meet a redirect.
api_v1_patterns = [
    path("", include(support_urls.rest_urlpatterns)),
    path("", include(credit_urls.rest_urlpatterns)),
    path("", include(messagelog_urls.rest_urlpatterns)),
    path("", include(accounts_urls.rest_urlpatterns)),
    path("", include(tenant_urls.rest_urlpatterns)),
    path("", include(apikey_urls.rest_urlpatterns)),
    path("", include(oauth_api_urls.rest_urlpatterns)),
    path("", include(event_urls.rest_urlpatterns)),
    path("", include(webhook_urls.rest_urlpatterns)),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    # The OAuth 2.0 / OpenID Connect provider: /.well-known/* and /oauth/*.
    path("", include(oauth_urls)),
    re_path(r"^health/?$", HealthView.as_view(), name="health"),
    path("api/v1/", include(api_v1_patterns)),
    path("v1/", include(apikey_urls.v1_urlpatterns)),
    path("v1/users/", include(accounts_urls.v1_urlpatterns)),
    path("v1/", include(gateway_urls.v1_urlpatterns)),
    path("v1/", include(support_urls.v1_urlpatterns)),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="openapi-schema"), name="redoc"),
    path("metrics", MetricsView.as_view(), name="prometheus-metrics"),
]

# Avatars are served here unless MEDIA_URL names another server (a CDN, object storage).
if settings.MEDIA_URL.startswith("/"):
    urlpatterns.append(
        path(settings.MEDIA_URL.lstrip("/"), include(accounts_urls.media_urlpatterns))
    )

handler500 = "core.middleware.server_error"
