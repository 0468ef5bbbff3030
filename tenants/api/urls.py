from rest_framework.routers import SimpleRouter

from tenants.api.rest_views import TenantViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # match with or without the slash, never redirect
router.register("tenants", TenantViewSet, basename="tenants")

rest_urlpatterns = router.urls
