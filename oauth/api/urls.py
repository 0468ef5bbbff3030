from rest_framework.routers import SimpleRouter

from oauth.api import schema  # noqa: F401  (registers the OpenAPI scheme of OAuth tokens)
from oauth.api.rest_views import ApplicationViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # match with or without the slash, never redirect
router.register("oauth/applications", ApplicationViewSet, basename="oauth-applications")

rest_urlpatterns = router.urls
