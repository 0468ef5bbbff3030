"""Tenants: /api/v1/tenants/… (platform admins; a tenant admin sees and edits its own)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.serializers import UserSerializer
from core.openapi import error_responses
from core.pagination import EnvelopePagination
from tenants import services
from tenants.api.serializers import (
    TenantCreateSerializer,
    TenantSerializer,
    TenantUpdateSerializer,
)
from tenants.selectors import tenants_visible_to

_ERRORS = error_responses(400, 401, 403, 404, 409)


@extend_schema_view(
    list=extend_schema(
        tags=["tenants"],
        summary="Tenants the caller may see, paged",
        description="Platform admins see every tenant; a tenant admin sees their own.",
        responses={200: TenantSerializer(many=True), **_ERRORS},
    ),
    retrieve=extend_schema(
        tags=["tenants"], summary="A tenant", responses={200: TenantSerializer, **_ERRORS}
    ),
    create=extend_schema(
        tags=["tenants"],
        summary="Create a tenant with its first admin (platform admins)",
        description="The answer holds the new `tenant` and its `admin` user.",
        request=TenantCreateSerializer,
        responses={201: dict, **_ERRORS},
    ),
    update=extend_schema(
        tags=["tenants"],
        summary="Change a tenant",
        description="Only the fields given change, as with PATCH.",
        request=TenantUpdateSerializer,
        responses={200: TenantSerializer, **_ERRORS},
    ),
    partial_update=extend_schema(
        tags=["tenants"],
        summary="Change some fields of a tenant",
        request=TenantUpdateSerializer,
        responses={200: TenantSerializer, **_ERRORS},
    ),
    destroy=extend_schema(
        tags=["tenants"],
        summary="Deactivate the tenant",
        responses={200: TenantSerializer, **_ERRORS},
    ),
)
class TenantViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = TenantSerializer
    pagination_class = EnvelopePagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return tenants_visible_to(self.request.user)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TenantSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(TenantSerializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        serializer = TenantCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant, admin = services.tenant_create(actor=request.user, data=serializer.validated_data)
        body = {
            "success": True,
            "tenant": TenantSerializer(tenant).data,
            "admin": UserSerializer(admin).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str) -> Response:
        serializer = TenantUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        tenant = services.tenant_update(
            actor=request.user, tenant=self.get_object(), data=serializer.validated_data
        )
        return Response(TenantSerializer(tenant).data)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk)

    def destroy(self, request: Request, pk: str) -> Response:
        tenant = services.tenant_set_active(
            actor=request.user, tenant=self.get_object(), active=False
        )
        return Response(TenantSerializer(tenant).data)

    @extend_schema(
        tags=["tenants"],
        summary="Reactivate a deactivated tenant",
        request=None,
        responses={200: TenantSerializer, **_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str) -> Response:
        tenant = services.tenant_set_active(
            actor=request.user, tenant=self.get_object(), active=True
        )
        return Response(TenantSerializer(tenant).data)
