"""The product's single key: /v1/users/api-key and /v1/users/api-key/regenerate."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys import services
from apikeys.api.serializers import CLEAR_KEY_NOTE, NO_PRIMARY_KEY_NOTE
from apikeys.selectors import api_key_primary
from core.openapi import error_responses
from security import ratelimits


class ProductAPIKeyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["v1 users"],
        summary="The primary API key, masked",
        responses={200: dict, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        key = api_key_primary(request.user)
        return Response(
            {
                "success": True,
                "api_key": key.masked if key else None,
                "created_at": key.created_at if key else None,
                "last_used_at": key.last_used_at if key else None,
                "note": CLEAR_KEY_NOTE if key else NO_PRIMARY_KEY_NOTE,
            }
        )


class ProductAPIKeyRegenerateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["v1 users"],
        summary="A new primary key (the old one dies at once)",
        request=None,
        responses={200: dict, **error_responses(401, 429)},
    )
    @ratelimits.rate_limited(ratelimits.API_KEY_CREATE_PER_USER)
    def post(self, request: Request) -> Response:
        issued = services.apikey_regenerate_primary(user=request.user, actor=request.user)
        return Response(
            {
                "success": True,
                "message": "API key regenerated",
                "api_key": issued.clear,
                "note": CLEAR_KEY_NOTE,
            }
        )
