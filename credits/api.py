"""Balances over HTTP: the caller's (/api/v1/users/me/credits) and staff changes."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authz.roles import Permission
from accounts.selectors import users_visible_to
from apikeys.permissions import key_allows
from core.openapi import error_responses
from credits import services


def balance_body(user) -> dict:
    balance = services.balance_of(user)
    return {
        "credits": balance.credits,
        "limits": balance.limits,
        "used_today": balance.used_today,
        "last_reset_on": balance.last_reset_on,
    }


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


class CreditChangeSerializer(serializers.Serializer):
    # Checked by the service as they come: whole numbers only, never "5" or 5.0.
    credits = serializers.JSONField(
        required=False, help_text='{"main": int, "reset": int}, each optional, 0 to 2147483647'
    )
    limits = serializers.JSONField(
        required=False,
        help_text='{"conversation_limit": int, "reset": int}, each optional, 0 to 2147483647',
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class UserCreditsView(APIView):
    """Staff change a user's balance (seed 003's `credits` and `limits` objects)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["credits"],
        request=CreditChangeSerializer,
        responses={200: dict, **error_responses(400, 401, 403, 404)},
    )
    def put(self, request: Request, user_id: int) -> Response:
        user = get_object_or_404(users_visible_to(request.user), pk=user_id)
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
