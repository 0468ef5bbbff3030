"""Webhooks: /api/v1/webhooks/… (tenant admins for their tenant; platform admins all)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.openapi import error_responses
from core.pagination import EnvelopePagination
from webhooks import selectors, services
from webhooks.api.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    with_secret_body,
)
from webhooks.models import WebhookDelivery

_ERRORS = error_responses(400, 401, 403, 404, 409)


@extend_schema_view(
    list=extend_schema(
        tags=["webhooks"],
        summary="Webhook endpoints the caller manages, paged",
        responses={200: WebhookEndpointSerializer(many=True), **_ERRORS},
    ),
    retrieve=extend_schema(
        tags=["webhooks"],
        summary="A webhook endpoint",
        responses={200: WebhookEndpointSerializer, **_ERRORS},
    ),
    create=extend_schema(
        tags=["webhooks"],
        summary="Register an endpoint; its signing secret is shown once",
        request=WebhookEndpointCreateSerializer,
        responses={201: dict, **_ERRORS},
    ),
    partial_update=extend_schema(
        tags=["webhooks"],
        summary="Change an endpoint's URL, events, description or activity",
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer, **_ERRORS},
    ),
    destroy=extend_schema(
        tags=["webhooks"],
        summary="Remove an endpoint and its delivery records",
        responses={204: None, **_ERRORS},
    ),
)
class WebhookEndpointViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = WebhookEndpointSerializer
    pagination_class = EnvelopePagination
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.endpoints_visible_to(self.request.user)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(WebhookEndpointSerializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        serializer = WebhookEndpointCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        made = services.endpoint_create(actor=request.user, **serializer.validated_data)
        return Response(with_secret_body(made), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        serializer = WebhookEndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(
            actor=request.user, endpoint=self.get_object(), data=serializer.validated_data
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.endpoint_delete(actor=request.user, endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["webhooks"],
        summary="A new signing secret, shown once",
        request=None,
        responses={200: dict, **_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str) -> Response:
        made = services.endpoint_secret_rotate(actor=request.user, endpoint=self.get_object())
        return Response(with_secret_body(made))


@extend_schema_view(
    list=extend_schema(
        tags=["webhooks"],
        summary="Deliveries to the caller's endpoints, newest first, paged",
        parameters=[
            OpenApiParameter("status", enum=WebhookDelivery.Status.values, required=False),
            OpenApiParameter("endpoint", int, required=False),
        ],
        responses={200: WebhookDeliverySerializer(many=True), **_ERRORS},
    ),
    retrieve=extend_schema(
        tags=["webhooks"],
        summary="A delivery",
        responses={200: WebhookDeliverySerializer, **_ERRORS},
    ),
)
class WebhookDeliveryViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = WebhookDeliverySerializer
    pagination_class = EnvelopePagination
    lookup_value_regex = r"[0-9a-f-]{36}"

    def get_queryset(self):
        return selectors.deliveries_listed(
            actor=self.request.user,
            status=self.request.query_params.get("status"),
            endpoint_id=self.request.query_params.get("endpoint"),
        )

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(WebhookDeliverySerializer(self.get_object()).data)

    @extend_schema(
        tags=["webhooks"],
        summary="Send a delivery again (same event id, fresh signature)",
        request=None,
        responses={202: WebhookDeliverySerializer, **_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str) -> Response:
        delivery = services.delivery_replay(actor=request.user, delivery=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
