"""The service's routes plus a bare DRF view, served only by the benchmark.

The bare view answers through the same middleware stack and DRF machinery as the
real endpoints but does no authentication, query or serialisation, so the gap
between it and `/api/v1/users/me` is what authenticating and serving a user costs.
"""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench import BARE_PATH
from config.urls import urlpatterns as service_urlpatterns


class BareView(APIView):
    """The cheapest DRF answer: the floor under every JSON endpoint."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [
    *service_urlpatterns,
    path(BARE_PATH.lstrip("/"), BareView.as_view(), name="bench-bare"),
]
