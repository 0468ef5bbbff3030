from django.urls import re_path
from rest_framework.routers import SimpleRouter

from apikeys.api import schema  # noqa: F401  (registers the OpenAPI scheme of API keys)
from apikeys.api.rest_views import APIKeyViewSet
from apikeys.api.v1_views import ProductAPIKeyRegenerateView, ProductAPIKeyView

router = SimpleRouter()
router.trailing_slash = "/?"  # match with or without the slash, never redirect
router.register("api-keys", APIKeyViewSet, basename="api-keys")

rest_urlpatterns = router.urls

v1_urlpatterns = [
    re_path(r"^users/api-key/?$", ProductAPIKeyView.as_view(), name="v1-api-key"),
    re_path(
        r"^users/api-key/regenerate/?$",
        ProductAPIKeyRegenerateView.as_view(),
        name="v1-api-key-regenerate",
    ),
]
