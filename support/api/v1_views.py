"""The admin panel, for platform admins only: its login, admin creation (super
admins), /v1/admin-panel/users, statistics, a user's conversation log, the health
report and the security records (security-logs, audit-logs, ip-whitelist,
ip-blocks, lockouts).

Views parse, call the domain's selector or service, and serialize; a refusal is
also a security event.
"""

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import serializers as account_serializers
from accounts.api.base_views import validated_data
from accounts.api.rest_users_views import UserAdminViewSet
from accounts.api.v1_views import V1LoginView
from accounts.authz.permissions import IsPlatformAdmin
from accounts.models import LoginSession, User
from accounts.selectors import users_visible_to
from accounts.services import users as user_services
from core.openapi import error_responses, results_list
from core.pagination import PageOrCursorPagination
from credits.api.serializers import PlanChangeSerializer, balance_body
from credits.services import plan_change
from security import selectors
from security.models import SecurityEvent, Severity
from security.services import allowlist, firewall, lockout
from security.services.events import security_event_record
from support import selectors as support_selectors
from support import services
from support.api import serializers as s
from support.api.permissions import IsSuperAdmin
from support.api.rest_health_views import detailed_report

TAG = "admin-panel security"
USERS_TAG = "admin panel"


# Platform admins only; a refused caller with a token leaves a security event.
# (A comment, not a docstring: the schema would copy it into every operation.)
class RecordsRefusals:
    permission_classes = [IsPlatformAdmin]
    # A login session only: an API key carries no platform power, and a view here that
    # shares the user admin's code must not inherit the operations it opens to keys.
    accepts_api_keys = False
    api_key_permissions = None

    def permission_denied(self, request: Request, message=None, code=None):
        if request.user and request.user.is_authenticated:
            security_event_record(
                kind=SecurityEvent.Kind.PERMISSION_DENIED,
                severity=Severity.WARNING,
                user=request.user,
                details={"surface": "admin-panel"},
            )
        super().permission_denied(request, message=message, code=code)


class AdminPanelViewSet(RecordsRefusals, viewsets.GenericViewSet):
    pagination_class = PageOrCursorPagination
    # Rows are found by integer id: anything else is 404 at the router, not a query.
    lookup_value_regex = r"\d+"

    def filters(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


_LIST_ERRORS = error_responses(400, 401, 403)


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="Security events, newest first (filter by severity, kind, user, IP, time)",
        parameters=[s.SecurityEventFilterSerializer],
        responses={200: s.SecurityEventSerializer(many=True), **_LIST_ERRORS},
    )
)
class SecurityLogViewSet(mixins.ListModelMixin, AdminPanelViewSet):
    serializer_class = s.SecurityEventSerializer

    def get_queryset(self):
        return selectors.security_events_list(
            actor=self.request.user, filters=self.filters(s.SecurityEventFilterSerializer)
        )


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="The audit trail, newest first",
        parameters=[s.AuditLogFilterSerializer],
        responses={200: s.AuditLogSerializer(many=True), **_LIST_ERRORS},
    )
)
class AuditLogViewSet(mixins.ListModelMixin, AdminPanelViewSet):
    serializer_class = s.AuditLogSerializer

    def get_queryset(self):
        return selectors.audit_logs_list(
            actor=self.request.user, filters=self.filters(s.AuditLogFilterSerializer)
        )


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="IP allowlist entries",
        responses={200: s.IPAllowlistEntrySerializer(many=True), **_LIST_ERRORS},
    ),
    create=extend_schema(
        tags=[TAG],
        summary="Allow an IP or CIDR network onto the staff surfaces",
        responses={201: s.IPAllowlistEntrySerializer, **error_responses(400, 401, 403)},
    ),
    destroy=extend_schema(
        tags=[TAG],
        summary="Remove an allowlist entry",
        responses={
            200: inline_serializer(
                "AllowlistEntryRemoved",
                {"success": serializers.BooleanField(), "message": serializers.CharField()},
            ),
            **error_responses(401, 403, 404),
        },
    ),
)
class IPAllowlistViewSet(mixins.ListModelMixin, AdminPanelViewSet):
    serializer_class = s.IPAllowlistEntrySerializer

    def get_queryset(self):
        return selectors.allowlist_entries_list(actor=self.request.user)

    def create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = allowlist.allowlist_entry_create(
            network=serializer.validated_data["network"],
            description=serializer.validated_data.get("description", ""),
            expires_at=serializer.validated_data.get("expires_at"),
            actor=request.user,
        )
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        allowlist.allowlist_entry_delete(entry_id=int(pk), actor=request.user)
        return Response({"success": True, "message": "Allowlist entry removed."})


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="IP blocks (active ones unless ?all=true)",
        parameters=[OpenApiParameter("all", bool)],
        responses={200: s.IPBlockSerializer(many=True), **_LIST_ERRORS},
    ),
    destroy=extend_schema(
        tags=[TAG],
        summary="Lift a block",
        responses={200: s.IPBlockSerializer, **error_responses(401, 403, 404)},
    ),
)
class IPBlockViewSet(mixins.ListModelMixin, AdminPanelViewSet):
    serializer_class = s.IPBlockSerializer

    def get_queryset(self):
        include_inactive = self.request.query_params.get("all", "").lower() in {"1", "true", "yes"}
        return selectors.ip_blocks_list(actor=self.request.user, include_inactive=include_inactive)

    def destroy(self, request: Request, pk: str) -> Response:
        block = firewall.ip_block_lift(block_id=int(pk), actor=request.user)
        return Response(self.get_serializer(block).data)


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="Accounts locked now",
        responses={
            200: results_list("LockoutList", s.LockoutSerializer, success=True),
            **_LIST_ERRORS,
        },
    ),
    destroy=extend_schema(
        tags=[TAG],
        summary="Unlock an account (identifier as typed at login, any case)",
        responses={
            200: inline_serializer(
                "AccountUnlocked",
                {
                    "success": serializers.BooleanField(),
                    "message": serializers.CharField(),
                    "cleared": serializers.IntegerField(),
                },
            ),
            **error_responses(401, 403),
        },
    ),
)
class LockoutViewSet(AdminPanelViewSet):
    serializer_class = s.LockoutSerializer
    pagination_class = None
    lookup_value_regex = "[^/]+"

    def list(self, request: Request) -> Response:
        rows = selectors.locked_accounts(actor=request.user)
        return Response({"success": True, "results": s.LockoutSerializer(rows, many=True).data})

    def destroy(self, request: Request, pk: str) -> Response:
        cleared = lockout.account_unlock(identifier=pk, actor=request.user)
        return Response({"success": True, "message": "Account unlocked.", "cleared": cleared})


_USER_UPDATE = extend_schema(
    tags=[USERS_TAG],
    summary="Update a user: staff-editable fields and the credits and limits objects",
    request=s.AdminPanelUserUpdateSerializer,
    responses={200: dict, **error_responses(400, 401, 403, 404, 409)},
)


def _user_detail(user) -> dict:
    return {**account_serializers.UserSerializer(user).data, **balance_body(user)}


@extend_schema_view(
    list=extend_schema(
        tags=[USERS_TAG],
        summary="Users, paged",
        parameters=[account_serializers.UserFilterSerializer],
        responses={
            200: account_serializers.UserSerializer(many=True),
            **error_responses(400, 401, 403),
        },
    ),
    retrieve=extend_schema(
        tags=[USERS_TAG],
        summary="A user, with their balance",
        responses={200: dict, **error_responses(401, 403, 404)},
    ),
    update=_USER_UPDATE,
    partial_update=_USER_UPDATE,
    destroy=extend_schema(
        tags=[USERS_TAG],
        summary="Delete a user (recoverable until purged); `reason` in the query",
        responses={
            200: account_serializers.MessageSerializer,
            **error_responses(401, 403, 404),
        },
    ),
)
class AdminPanelUserViewSet(AdminPanelViewSet, UserAdminViewSet):
    """The admin panel's access rule (and its record of refusals), the user admin's
    views; a user's details carry their balance, and an update also takes the
    `credits` and `limits` objects (`support.services.admin_panel_user_update`)."""

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(_user_detail(self.get_object()))

    def update(self, request: Request, pk: str) -> Response:
        serializer = s.AdminPanelUserUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        profile = dict(serializer.validated_data)
        balance = {name: profile.pop(name) for name in s.CREDIT_FIELDS if name in profile}
        services.admin_panel_update_names_a_change(
            profile=profile, credits=balance.get("credits"), limits=balance.get("limits")
        )
        user = services.admin_panel_user_update(
            actor=request.user,
            user=self.get_object(),
            profile=profile,
            credits=balance.get("credits"),
            limits=balance.get("limits"),
            reason=balance.get("reason", ""),
        )
        return Response(_user_detail(user))


@extend_schema_view(
    put=extend_schema(
        tags=[USERS_TAG],
        summary="Put a user on an active plan, with an optional reason",
        description=(
            "The plan's daily amounts go to the user's credit account and today's balance "
            "is raised to them (never lowered); ledger, plan history and audit rows are "
            "written. Unknown plan: 400 UNKNOWN_PLAN; inactive: 400 PLAN_INACTIVE."
        ),
        request=PlanChangeSerializer,
        responses={200: dict, **error_responses(400, 401, 403, 404, 415)},
    )
)
class AdminPanelUserPlanView(RecordsRefusals, GenericAPIView):
    serializer_class = PlanChangeSerializer

    def put(self, request: Request, pk: str) -> Response:
        user = get_object_or_404(users_visible_to(request.user), pk=pk)
        data = validated_data(PlanChangeSerializer, request.data)
        changed = plan_change(
            actor=request.user,
            user=user,
            plan=data["subscription_plan"],
            reason=data.get("reason", ""),
        )
        return Response(_user_detail(changed.user))


# Four operations only; the rest of the user admin API stays under /api/v1/users.
users_view = AdminPanelUserViewSet.as_view({"get": "list"})
user_view = AdminPanelUserViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)


@extend_schema_view(
    post=extend_schema(
        tags=[USERS_TAG],
        summary="Admin login: platform admins only (anyone else hears 401 as for a wrong password)",
        description=(
            "The body of `/v1/users/login`. An account with MFA gets `mfa_required` and an "
            "`mfa_token` that `/v1/users/login/mfa` turns into an admin panel session. The "
            "session ends ADMIN_SESSION_DURATION_HOURS after the login."
        ),
        responses={
            200: account_serializers.ProductLoginSerializer,
            **error_responses(400, 401, 403, 415, 423, 429),
        },
    )
)
class AdminPanelLoginView(V1LoginView):
    """`/v1/users/login` for platform admins: anyone else is refused before any session
    exists, with the answer of a wrong password, and the attempt counts for lockout."""

    session_surface = LoginSession.Surface.ADMIN_PANEL

    def admits(self, user: User) -> bool:
        return user.is_platform_admin


class CreateAdminView(RecordsRefusals, GenericAPIView):
    """Super admins only; the account is made by `platform_admin_create`."""

    permission_classes = [IsPlatformAdmin, IsSuperAdmin]
    serializer_class = s.CreateAdminSerializer

    @extend_schema(
        tags=[USERS_TAG],
        summary="Create a platform admin (super admins only)",
        responses={
            201: s.AdminCreatedSerializer,
            **error_responses(400, 401, 403, 409, 415),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_services.platform_admin_create(actor=request.user, **serializer.validated_data)
        body = {
            "success": True,
            "message": "Admin created successfully",
            "user": account_serializers.ProductUserSerializer(user).data,
            "super_admin": user.is_superuser,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class StatisticsView(RecordsRefusals, GenericAPIView):
    """Platform-wide figures, from a fixed number of aggregate queries."""

    serializer_class = s.StatisticsResponseSerializer

    @extend_schema(
        tags=[USERS_TAG],
        summary="Platform statistics: users, sign-ups, logins, conversations, credits, security",
        responses={200: s.StatisticsResponseSerializer, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        figures = support_selectors.statistics(actor=request.user)
        return Response({"success": True, "statistics": s.StatisticsSerializer(figures).data})


class UserMessageLogsView(RecordsRefusals, GenericAPIView):
    """Any user's conversations for a platform admin; each read leaves an audit row."""

    serializer_class = s.MessageLogRecordSerializer
    pagination_class = PageOrCursorPagination

    @extend_schema(
        tags=[USERS_TAG],
        summary="A user's conversation log, newest first (the reading is audited)",
        parameters=[
            OpenApiParameter("page", int, description="page number, from 1"),
            OpenApiParameter("page_size", int, description="rows per page (at most 200)"),
            OpenApiParameter(
                "cursor",
                str,
                description="keyset pages: empty for the first, then a `next` link's value",
            ),
        ],
        responses={
            200: s.MessageLogRecordSerializer(many=True),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request: Request, user_id: str) -> Response:
        records = services.user_message_logs_read(actor=request.user, user_id=int(user_id))
        page = self.paginate_queryset(records)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class AdminPanelHealthView(RecordsRefusals, GenericAPIView):
    """The detailed health report for platform admins, from any address."""

    @extend_schema(
        tags=[USERS_TAG],
        summary="The detailed health report (503 when the database or cache is down)",
        responses={200: dict, **error_responses(401, 403, 503)},
    )
    def get(self, request: Request) -> Response:
        body, healthy = detailed_report()
        return Response(body, status=200 if healthy else 503)
