"""/api/v1/users/…: user administration by staff and tenant admins.

Every lookup goes through `users_visible_to`, so another tenant's user is a 404, never
a 403; every write goes through a service that asks `accounts.authz.rules`.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import serializers as s
from accounts.api.base_views import validated_data
from accounts.authz import rules as authz
from accounts.authz.roles import Permission
from accounts.selectors import user_statistics, users_list, users_visible_to
from accounts.services import lifecycle, users
from core.openapi import error_responses
from core.pagination import PageOrCursorPagination

_READ_ERRORS = error_responses(400, 401, 404)
_WRITE_ERRORS = error_responses(400, 401, 403, 404, 409)


@extend_schema_view(
    list=extend_schema(
        tags=["user admin"],
        summary="Users the caller may see",
        parameters=[s.UserFilterSerializer],
        responses={200: s.UserSerializer(many=True), **_READ_ERRORS},
    ),
    retrieve=extend_schema(
        tags=["user admin"],
        summary="A user the caller may see",
        responses={200: s.UserSerializer, **_READ_ERRORS},
    ),
    create=extend_schema(
        tags=["user admin"],
        summary="Create a user (staff and tenant admins)",
        description=(
            "The role is `user` unless named; the password meets the password policy. A "
            "tenant admin creates users of their own tenant only."
        ),
        request=s.AdminUserCreateSerializer,
        responses={201: s.UserSerializer, **_WRITE_ERRORS},
    ),
    update=extend_schema(
        tags=["user admin"],
        summary="Change a user's profile, plan, verification, role or status",
        description="Only the fields given change, as with PATCH.",
        request=s.AdminUserUpdateSerializer,
        responses={200: s.UserSerializer, **_WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        tags=["user admin"],
        summary="Change some of a user's profile, plan, verification, role or status",
        request=s.AdminUserUpdateSerializer,
        responses={200: s.UserSerializer, **_WRITE_ERRORS},
    ),
    destroy=extend_schema(
        tags=["user admin"],
        summary="Delete (recoverable until purged); not the caller's own account",
        responses={200: s.MessageSerializer, **_WRITE_ERRORS},
    ),
)
class UserAdminViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    # API keys whose scopes name the permission (and whose owner holds it) open these;
    # deleting and bulk changes need a login session.
    accepts_api_keys = True
    api_key_permissions = {
        "list": Permission.READ_USERS,
        "retrieve": Permission.READ_USERS,
        "create": Permission.WRITE_USERS,
        "update": Permission.WRITE_USERS,
        "partial_update": Permission.WRITE_USERS,
        "change_status": Permission.WRITE_USERS,
        "assign_role": Permission.WRITE_USERS,
    }
    serializer_class = s.UserSerializer
    pagination_class = PageOrCursorPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if self.action != "list":
            return users_visible_to(self.request.user)
        filters = validated_data(s.UserFilterSerializer, self.request.query_params)
        keyset = PageOrCursorPagination.cursor_query_param in self.request.query_params
        return users_list(actor=self.request.user, filters=filters, keyset=keyset)

    def body(self, user) -> dict:
        """The user as the caller sees them (an email the user hides is null)."""
        return s.UserSerializer(user, context={"viewer": self.request.user}).data

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        context = {"viewer": request.user}
        return self.get_paginated_response(s.UserSerializer(page, many=True, context=context).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self.body(self.get_object()))

    def create(self, request: Request) -> Response:
        data = validated_data(s.AdminUserCreateSerializer, request.data)
        user = users.user_create_by_admin(actor=request.user, data=data)
        return Response(self.body(user), status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str) -> Response:
        data = validated_data(s.AdminUserUpdateSerializer, request.data, partial=True)
        user = users.user_update_by_admin(actor=request.user, user=self.get_object(), data=data)
        return Response(self.body(user))

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk)

    def destroy(self, request: Request, pk: str) -> Response:
        user = self.get_object()
        if user.pk != request.user.pk and not authz.can(
            request.user, Permission.DELETE_USERS, user
        ):
            return self.permission_denied(request, message="You may not delete this user.")
        # Staff deleting: the owner deletes their own account at /api/v1/users/me
        # (with the password); here their own id is refused (SELF_LOCKOUT).
        lifecycle.account_delete(
            request=request,
            user=user,
            actor=request.user,
            reason=request.query_params.get("reason", ""),
        )
        return Response({"message": "User deleted (recoverable until purged)."})

    @extend_schema(
        tags=["user admin"],
        summary="Change a user's status, with an optional reason",
        description=(
            "Leaving `active` ends every login session of the user and revokes their API keys."
        ),
        request=s.StatusChangeSerializer,
        responses={200: s.UserSerializer, **_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request: Request, pk: str) -> Response:
        data = validated_data(s.StatusChangeSerializer, request.data)
        user = users.user_change_status(
            actor=request.user,
            user=self.get_object(),
            status=data["status"],
            reason=data.get("reason", ""),
        )
        return Response(self.body(user))

    @extend_schema(
        tags=["user admin"],
        summary="Give a user a role, by name",
        request=s.RoleAssignSerializer,
        responses={200: s.UserSerializer, **_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="roles")
    def assign_role(self, request: Request, pk: str) -> Response:
        data = validated_data(s.RoleAssignSerializer, request.data)
        user = users.user_assign_role(
            actor=request.user, user=self.get_object(), role_name=data["role"]
        )
        return Response(self.body(user))

    @extend_schema(
        tags=["user admin"],
        summary="Change the status and/or role of many users: all of them or none",
        description=(
            "Up to 1000 ids. Every user is checked first; any refusal fails the whole "
            "request with the list of refused ids, and nothing is written."
        ),
        request=s.BulkUserSerializer,
        responses={200: dict, **_WRITE_ERRORS},
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request: Request) -> Response:
        data = validated_data(s.BulkUserSerializer, request.data)
        result = users.users_bulk_update(
            actor=request.user,
            user_ids=data["ids"],
            status=data.get("status"),
            role=data.get("role"),
            reason=data.get("reason", ""),
        )
        return Response({"success": True, "updated": result.updated})

    @extend_schema(
        tags=["user admin"],
        summary="User counts of the users the caller may see",
        description=(
            "Totals by status, role, tenant, plan and verification, and sign-ups per day "
            "within the `since`/`until` dates; exact as of `generated_at` (kept in the "
            "cache for 60 seconds per scope and window)."
        ),
        parameters=[s.StatisticsFilterSerializer],
        responses={200: dict, **error_responses(400, 401, 403)},
    )
    @action(detail=False, methods=["get"], url_path="stats")
    def stats(self, request: Request) -> Response:
        if not authz.can(request.user, Permission.READ_USERS):
            return self.permission_denied(request, message="You may not read user statistics.")
        window = validated_data(s.StatisticsFilterSerializer, request.query_params)
        return Response(user_statistics(actor=request.user, **window))
