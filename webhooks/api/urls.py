from rest_framework.routers import SimpleRouter

from webhooks.api.rest_views import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # match with or without the slash, never redirect
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-deliveries")
router.register("webhooks", WebhookEndpointViewSet, basename="webhooks")

rest_urlpatterns = router.urls
