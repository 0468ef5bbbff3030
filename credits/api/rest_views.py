"""Balances over HTTP: the caller's (/api/v1/users/me/credits) and staff changes
(/api/v1/users/<id>/credits)."""

from drf_spectacular.utils import extend_schema
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authz.roles import Permission
from apikeys.permissions import key_allows
from core.openapi import error_responses
from credits import services
from credits.api.serializers import CreditChangeSerializer, balance_body
from credits.selectors import credit_owners_visible_to


class MyCreditsView(APIView):
    permission_classes = [IsAuthenticated, key_allows(Permission.READ_SELF)]
    accepts_api_keys = True

    @extend_schema(
        tags=["credits"],
        summary="The caller's balance and today's use",
        responses={200: dict, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(balance_body(request.user))


class UserCreditsView(APIView):
    """Staff change a user's balance (the `credits` and `limits` objects)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["credits"],
        summary="Set a user's balance and limits (staff), with an optional reason",
        request=CreditChangeSerializer,
        responses={200: dict, **error_responses(400, 401, 403, 404)},
    )
    def put(self, request: Request, user_id: int) -> Response:
        user = get_object_or_404(credit_owners_visible_to(request.user), pk=user_id)
        services.credits_change_allowed(actor=request.user, user=user)
        serializer = CreditChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.credits_set(
            user=user,
            actor=request.user,
            credits=data.get("credits"),
            limits=data.get("limits"),
            reason=data.get("reason", ""),
        )
        return Response({"success": True, **balance_body(user)})
