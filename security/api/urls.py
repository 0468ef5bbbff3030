from rest_framework.routers import SimpleRouter

from security.api import views

router = SimpleRouter()
router.trailing_slash = "/?"  # match with or without the slash, never redirect
router.register("security-logs", views.SecurityLogViewSet, basename="security-logs")
router.register("audit-logs", views.AuditLogViewSet, basename="audit-logs")
router.register("ip-whitelist", views.IPAllowlistViewSet, basename="ip-whitelist")
router.register("ip-blocks", views.IPBlockViewSet, basename="ip-blocks")
router.register("lockouts", views.LockoutViewSet, basename="lockouts")

urlpatterns = router.urls
