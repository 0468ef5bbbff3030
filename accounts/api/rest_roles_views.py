"""/api/v1/roles/…: the built-in roles and a tenant's custom roles.

Every lookup goes through `roles_visible_to`, so another tenant's role is a 404, never
a 403; every write goes through `accounts.services.roles`.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import serializers as s
from accounts.api.base_views import validated_data
from accounts.authz.roles import Permission
from accounts.selectors import roles_visible_to
from accounts.services import roles
from core.openapi import error_responses, results_list

_READ_ERRORS = error_responses(400, 401, 404)
_WRITE_ERRORS = error_responses(400, 401, 403, 404, 409)


@extend_schema_view(
    list=extend_schema(
        tags=["roles"],
        summary="Roles the caller may see: the built-in roles and their tenant's",
        responses={200: results_list("RoleList", s.RoleSerializer), **_READ_ERRORS},
    ),
    retrieve=extend_schema(
        tags=["roles"], summary="A role", responses={200: s.RoleSerializer, **_READ_ERRORS}
    ),
    create=extend_schema(
        tags=["roles"],
        summary="Create a custom role",
        description=(
            "A role of the caller's tenant (platform admins may give `tenant_id`, or none for "
            "a platform-wide role) with a name, a description and its permissions."
        ),
        request=s.RoleSerializer,
        responses={201: s.RoleSerializer, **_WRITE_ERRORS},
    ),
    update=extend_schema(
        tags=["roles"],
        summary="Change a custom role (built-in roles are refused)",
        description="Only the fields given change, as with PATCH.",
        request=s.RoleSerializer,
        responses={200: s.RoleSerializer, **_WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        tags=["roles"],
        summary="Change some fields of a custom role (built-in roles are refused)",
        request=s.RoleSerializer,
        responses={200: s.RoleSerializer, **_WRITE_ERRORS},
    ),
    destroy=extend_schema(
        tags=["roles"],
        summary="Delete a custom role (built-in roles are refused)",
        responses={204: None, **_WRITE_ERRORS},
    ),
)
class RoleViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    # API keys whose scopes name the permission (and whose owner holds it) open these;
    # deleting a role needs a login session.
    accepts_api_keys = True
    api_key_permissions = {
        "list": (Permission.READ_USERS, Permission.MANAGE_ROLES),
        "retrieve": (Permission.READ_USERS, Permission.MANAGE_ROLES),
        "create": Permission.MANAGE_ROLES,
        "update": Permission.MANAGE_ROLES,
        "partial_update": Permission.MANAGE_ROLES,
    }
    serializer_class = s.RoleSerializer
    pagination_class = None
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return roles_visible_to(self.request.user).order_by("tenant_id", "name")

    def list(self, request: Request) -> Response:
        return Response({"results": s.RoleSerializer(self.get_queryset(), many=True).data})

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.RoleSerializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = validated_data(s.RoleSerializer, request.data)
        role = roles.role_create(
            actor=request.user,
            name=data["name"],
            permissions=data["permissions"],
            description=data.get("description", ""),
            tenant_id=request.data.get("tenant_id"),
        )
        return Response(s.RoleSerializer(role).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str) -> Response:
        data = validated_data(s.RoleSerializer, request.data, partial=True)
        role = roles.role_update(actor=request.user, role=self.get_object(), data=data)
        return Response(s.RoleSerializer(role).data)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk)

    def destroy(self, request: Request, pk: str) -> Response:
        roles.role_delete(actor=request.user, role=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
