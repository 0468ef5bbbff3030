"""Balances and billing over HTTP: the caller's balance (/api/v1/users/me/credits) and
billing (/api/v1/users/me/billing), staff changes (/api/v1/users/<id>/credits,
/api/v1/users/<id>/plan, /api/v1/users/<id>/billing) and the plans on offer
(/api/v1/plans)."""

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView, get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.base_views import validated_data
from accounts.authz.roles import Permission
from accounts.services.users import user_billing_email_set
from apikeys.permissions import key_allows
from core.openapi import error_responses
from core.pagination import EnvelopePagination
from credits import services
from credits.api.serializers import (
    BillingSerializer,
    BillingUpdateSerializer,
    CreditChangeSerializer,
    PlanChangeRowSerializer,
    PlanChangeSerializer,
    PlanSerializer,
    balance_body,
    billing_body,
)
from credits.selectors import (
    billing_owners_visible_to,
    credit_owners_visible_to,
    plan_history_of,
    plans_offered,
)


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


# ----- plans and billing ---------------------------------------------------------------


class PlansView(APIView):
    permission_classes = [IsAuthenticated]
    # A key reads (`read:self`); changes take a login session.
    accepts_api_keys = True
    api_key_permissions = {"get": Permission.READ_SELF}

    @extend_schema(
        tags=["billing"],
        summary="The subscription plans on offer (active), in order",
        responses={200: PlanSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(PlanSerializer(plans_offered(), many=True).data)


class MyBillingView(APIView):
    """The caller's plan (read-only: nobody changes their own plan), billing email and
    plan history."""

    permission_classes = [IsAuthenticated]
    # A key reads (`read:self`); changes take a login session.
    accepts_api_keys = True
    api_key_permissions = {"get": Permission.READ_SELF}

    @extend_schema(
        tags=["billing"],
        summary="The caller's plan, billing email and newest plan changes",
        responses={200: BillingSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(billing_body(request.user))

    @extend_schema(
        tags=["billing"],
        summary="Set or clear the caller's billing email (the plan is not changed here)",
        request=BillingUpdateSerializer,
        responses={200: BillingSerializer, **error_responses(400, 401, 403, 415)},
    )
    def put(self, request: Request) -> Response:
        data = validated_data(BillingUpdateSerializer, request.data)
        user = user_billing_email_set(
            actor=request.user, user=request.user, billing_email=data["billing_email"]
        )
        return Response(billing_body(user))


class MyPlanHistoryView(ListAPIView):
    permission_classes = [IsAuthenticated]
    # A key reads (`read:self`); changes take a login session.
    accepts_api_keys = True
    api_key_permissions = {"get": Permission.READ_SELF}
    pagination_class = EnvelopePagination
    serializer_class = PlanChangeRowSerializer

    @extend_schema(
        tags=["billing"],
        summary="The caller's plan changes, newest first, paged",
        responses={200: PlanChangeRowSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return plan_history_of(self.request.user)


class UserBillingView(APIView):
    """A user's billing for those who manage their tenant (404 for anyone else)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["billing"],
        summary="A user's plan, billing email and newest plan changes",
        responses={200: BillingSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, user_id: int) -> Response:
        user = get_object_or_404(billing_owners_visible_to(request.user), pk=user_id)
        return Response(billing_body(user))

    @extend_schema(
        tags=["billing"],
        summary="Set or clear a user's billing email (staff and tenant admins)",
        request=BillingUpdateSerializer,
        responses={200: BillingSerializer, **error_responses(400, 401, 403, 404, 415)},
    )
    def put(self, request: Request, user_id: int) -> Response:
        user = get_object_or_404(billing_owners_visible_to(request.user), pk=user_id)
        data = validated_data(BillingUpdateSerializer, request.data)
        user = user_billing_email_set(
            actor=request.user, user=user, billing_email=data["billing_email"]
        )
        return Response(billing_body(user))


class UserPlanView(APIView):
    """Staff (`write:users`) and tenant admins (their own tenant's users) put a user on a
    plan; nobody changes their own, unless a platform admin."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["billing"],
        summary="Put a user on an active plan, with an optional reason",
        description=(
            "Sets the plan's daily amounts on the user's credit account and raises today's "
            "balance to them (never lowers it); writes the ledger, the plan history and the "
            "audit trail. Unknown plan: 400 UNKNOWN_PLAN; inactive: 400 PLAN_INACTIVE."
        ),
        request=PlanChangeSerializer,
        responses={200: BillingSerializer, **error_responses(400, 401, 403, 404, 415)},
    )
    def put(self, request: Request, user_id: int) -> Response:
        user = get_object_or_404(credit_owners_visible_to(request.user), pk=user_id)
        services.plan_change_allowed(actor=request.user, user=user)
        data = validated_data(PlanChangeSerializer, request.data)
        changed = services.plan_change(
            actor=request.user,
            user=user,
            plan=data["subscription_plan"],
            reason=data.get("reason", ""),
        )
        return Response(billing_body(changed.user))
