"""The service's URLs plus views that fail on purpose, for the 500-path tests."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from config.urls import urlpatterns as service_urlpatterns


class Boom(RuntimeError):
    pass


class CrashingApiView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise Boom("deliberate failure with password=hunter2")


def crashing_plain_view(request):
    raise Boom("deliberate failure")


urlpatterns = [
    path("api/v1/_crash", CrashingApiView.as_view()),
    path("v1/_crash_plain", crashing_plain_view),
    *service_urlpatterns,
]
