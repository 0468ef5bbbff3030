"""User and role administration: /api/v1/users/… and /api/v1/roles/…

Every lookup goes through the actor's visible queryset, so another tenant's user or
role is a 404, never a 403; every write goes through a service that asks `authz`.
"""

from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import authz, lifecycle, role_services, user_admin
from accounts.api import serializers as s
from accounts.selectors import user_statistics
from core.openapi import error_responses, results_list
from core.pagination import EnvelopePagination

_READ_ERRORS = error_responses(400, 401, 404)
_WRITE_ERRORS = error_responses(400, 401, 403, 404, 409)


def _validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(
        tags=["user admin"],
        summary="Users the caller may see",
        parameters=[s.UserFilterSerializer],
        responses={200: s.UserSerializer(many=True), **_READ_ERRORS},
    ),
    retrieve=extend_schema(tags=["user admin"], responses={200: s.UserSerializer, **_READ_ERRORS}),
    create=extend_schema(
        tags=["user admin"],
        request=s.AdminUserCreateSerializer,
        responses={201: s.UserSerializer, **_WRITE_ERRORS},
    ),
    update=extend_schema(
        tags=["user admin"],
        request=s.AdminUserUpdateSerializer,
        responses={200: s.UserSerializer, **_WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        tags=["user admin"],
        request=s.AdminUserUpdateSerializer,
        responses={200: s.UserSerializer, **_WRITE_ERRORS},
    ),
    destroy=extend_schema(
        tags=["user admin"],
        summary="Delete (recoverable until purged)",
        responses={200: s.MessageSerializer, **_WRITE_ERRORS},
    ),
)
class UserAdminViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = s.UserSerializer
    pagination_class = EnvelopePagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        users = authz.users_visible_to(self.request.user)
        if self.action != "list":
            return users
        filters = _validated(s.UserFilterSerializer, self.request.query_params)
        if filters.get("search"):
            term = filters["search"]
            users = users.filter(
                Q(email__icontains=term) | Q(username__icontains=term) | Q(name__icontains=term)
            )
        exact = {
            "status": "status",
            "role": "role__name",
            "tenant": "tenant_id",
            "plan": "subscription_plan",
            "created_after": "created_at__gte",
            "created_before": "created_at__lt",
        }
        users = users.filter(
            **{exact[key]: value for key, value in filters.items() if key in exact}
        )
        return users.order_by(filters.get("ordering", "id"))

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.UserSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.UserSerializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = _validated(s.AdminUserCreateSerializer, request.data)
        user = user_admin.user_create_by_admin(actor=request.user, data=data)
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str) -> Response:
        data = _validated(s.AdminUserUpdateSerializer, request.data, partial=True)
        user = user_admin.user_update_by_admin(
            actor=request.user, user=self.get_object(), data=data
        )
        return Response(s.UserSerializer(user).data)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk)

    def destroy(self, request: Request, pk: str) -> Response:
        user = self.get_object()
        if user.pk != request.user.pk and not authz.can(request.user, "delete:users", user):
            return self.permission_denied(request, message="You may not delete this user.")
        lifecycle.account_delete(
            request=request,
            user=user,
            actor=request.user,
            password=request.data.get("password") if isinstance(request.data, dict) else None,
            reason=request.query_params.get("reason", ""),
        )
        return Response({"message": "User deleted (recoverable until purged)."})

    @extend_schema(
        tags=["user admin"],
        request=s.StatusChangeSerializer,
        responses={200: s.UserSerializer, **_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request: Request, pk: str) -> Response:
        data = _validated(s.StatusChangeSerializer, request.data)
        user = user_admin.user_change_status(
            actor=request.user,
            user=self.get_object(),
            status=data["status"],
            reason=data.get("reason", ""),
        )
        return Response(s.UserSerializer(user).data)

    @extend_schema(
        tags=["user admin"],
        request=s.RoleAssignSerializer,
        responses={200: s.UserSerializer, **_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="roles")
    def assign_role(self, request: Request, pk: str) -> Response:
        data = _validated(s.RoleAssignSerializer, request.data)
        user = user_admin.user_assign_role(
            actor=request.user, user=self.get_object(), role_name=data["role"]
        )
        return Response(s.UserSerializer(user).data)

    @extend_schema(
        tags=["user admin"], request=s.BulkUserSerializer, responses={200: dict, **_WRITE_ERRORS}
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request: Request) -> Response:
        data = _validated(s.BulkUserSerializer, request.data)
        result = user_admin.users_bulk_update(
            actor=request.user,
            user_ids=data["ids"],
            status=data.get("status"),
            role=data.get("role"),
            reason=data.get("reason", ""),
        )
        return Response({"success": True, "updated": result.updated})

    @extend_schema(
        tags=["user admin"],
        parameters=[s.StatisticsFilterSerializer],
        responses={200: dict, **error_responses(400, 401, 403)},
    )
    @action(detail=False, methods=["get"], url_path="stats")
    def stats(self, request: Request) -> Response:
        if not authz.can(request.user, "read:users"):
            return self.permission_denied(request, message="You may not read user statistics.")
        window = _validated(s.StatisticsFilterSerializer, request.query_params)
        return Response(user_statistics(users=authz.users_visible_to(request.user), **window))


@extend_schema_view(
    list=extend_schema(
        tags=["roles"],
        responses={200: results_list("RoleList", s.RoleSerializer), **_READ_ERRORS},
    ),
    retrieve=extend_schema(tags=["roles"], responses={200: s.RoleSerializer, **_READ_ERRORS}),
    create=extend_schema(
        tags=["roles"], request=s.RoleSerializer, responses={201: s.RoleSerializer, **_WRITE_ERRORS}
    ),
    update=extend_schema(
        tags=["roles"], request=s.RoleSerializer, responses={200: s.RoleSerializer, **_WRITE_ERRORS}
    ),
    partial_update=extend_schema(
        tags=["roles"], request=s.RoleSerializer, responses={200: s.RoleSerializer, **_WRITE_ERRORS}
    ),
    destroy=extend_schema(tags=["roles"], responses={204: None, **_WRITE_ERRORS}),
)
class RoleViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = s.RoleSerializer
    pagination_class = None
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return authz.roles_visible_to(self.request.user).order_by("tenant_id", "name")

    def list(self, request: Request) -> Response:
        return Response({"results": s.RoleSerializer(self.get_queryset(), many=True).data})

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.RoleSerializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = _validated(s.RoleSerializer, request.data)
        role = role_services.role_create(
            actor=request.user,
            name=data["name"],
            permissions=data["permissions"],
            description=data.get("description", ""),
            tenant_id=request.data.get("tenant_id"),
        )
        return Response(s.RoleSerializer(role).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str) -> Response:
        data = _validated(s.RoleSerializer, request.data, partial=True)
        role = role_services.role_update(actor=request.user, role=self.get_object(), data=data)
        return Response(s.RoleSerializer(role).data)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk)

    def destroy(self, request: Request, pk: str) -> Response:
        role_services.role_delete(actor=request.user, role=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
