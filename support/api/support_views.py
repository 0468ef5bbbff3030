"""The support staff API, /v1/support: staff accounts (create, login, profile,
permissions) and what each staff level may read and change of users.

A staff member calls with the session token of any login of theirs (usually
`POST /v1/support/login`, which admits support staff only); API keys are not
accepted here. Every route under /v1/support/users needs a right of the caller's
level (`support.levels.LEVEL_RIGHTS`): a missing right is 403 SUPPORT_RIGHT_MISSING
before the user is looked up; a user outside the caller's reach is 404; a protected
one (staff, admins, moderators, the caller) is 403 SUPPORT_TARGET_PROTECTED.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import serializers as account_serializers
from accounts.api.base_views import validated_data
from accounts.api.v1_views import V1LoginView, session_answer
from accounts.auth.authentication import SessionJWTAuthentication
from accounts.auth.jwt_tokens import TokenPair
from accounts.models import LoginSession, User
from apikeys.api.serializers import APIKeySerializer, issued_body
from core.errors import NotFound, ValidationFailed
from core.openapi import error_responses, results_list
from core.pagination import EnvelopeCursorPagination, EnvelopePagination
from credits.api.serializers import balance_body
from messagelog.api.serializers import MessageLogSerializer
from security.models import SecurityEvent, Severity
from security.services.events import security_event_record
from support import rules, selectors, services
from support.api import support_serializers as s
from support.errors import SupportErrorCode
from support.levels import SupportRight

TAG = "support staff"
MAX_ROW_ID = 2**63 - 1  # the largest bigint primary key


class IsSupportStaff(BasePermission):
    message = "Only support staff may use this route."
    code = SupportErrorCode.SUPPORT_STAFF_ONLY

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_support_staff)


class SupportView(GenericAPIView):
    """A staff member's session (never an API key), and the right `required_right`."""

    authentication_classes = [SessionJWTAuthentication]
    permission_classes = [IsSupportStaff]
    # Staff hold the read-only guest role; these routes are theirs to use anyway.
    allows_read_only_role = True
    required_right: SupportRight | None = None
    pagination_class = None

    def initial(self, request: Request, *args, **kwargs) -> None:
        # An id no row can have is not found, whoever asks.
        if any(int(kwargs[name]) > MAX_ROW_ID for name in ("pk", "key_id") if name in kwargs):
            raise NotFound()
        super().initial(request, *args, **kwargs)
        if self.required_right is not None:
            rules.support_right_require(request.user, self.required_right)

    def permission_denied(self, request: Request, message=None, code=None):
        if request.user and request.user.is_authenticated:
            security_event_record(
                kind=SecurityEvent.Kind.PERMISSION_DENIED,
                severity=Severity.WARNING,
                user=request.user,
                details={"surface": "support"},
            )
        super().permission_denied(request, message=message, code=code)

    def target(self, pk: str) -> User:
        """The user of the path: in the caller's reach (else 404), not protected (else 403)."""
        user = selectors.support_user_get(staff=self.request.user, pk=int(pk))
        rules.support_target_require(self.request.user, user)
        return user

    def user_body(self, user: User) -> dict:
        return s.support_user_body(user, self.request.user.support_level)


def _schema(summary: str, response, *errors: int, request=None, status_code: int = 200, **kw):
    return extend_schema(
        tags=[TAG],
        summary=summary,
        request=request,
        responses={status_code: response, **error_responses(*errors)},
        **kw,
    )


_ROUTE_ERRORS = (401, 403, 404)


# ----- staff accounts -----------------------------------------------------------------


class SupportStaffCreateView(GenericAPIView):
    authentication_classes = [SessionJWTAuthentication]
    permission_classes = [IsAuthenticated]
    serializer_class = s.StaffCreateSerializer

    @_schema(
        "Create a support staff account (platform admins; tenant admins for their tenant)",
        dict,
        400,
        401,
        403,
        409,
        415,
        request=s.StaffCreateSerializer,
        status_code=201,
    )
    def post(self, request: Request) -> Response:
        data = validated_data(s.StaffCreateSerializer, request.data)
        member = services.support_staff_create(actor=request.user, **data)
        return Response(
            {
                "success": True,
                "message": "Support staff created",
                "staff": s.StaffProfileSerializer(member).data,
            },
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    post=extend_schema(
        tags=[TAG],
        summary="Support staff login: opens a session capped by SUPPORT_SESSION_DURATION_HOURS",
        responses={
            200: account_serializers.ProductLoginSerializer,
            **error_responses(400, 401, 403, 415, 423, 429),
        },
    )
)
class SupportLoginView(V1LoginView):
    """The /v1 login for support staff only: anyone else hears the wrong-password 401,
    and the attempt counts toward the account's lockout."""

    session_surface = LoginSession.Surface.SUPPORT

    def admits(self, user: User) -> bool:
        return user.is_support_staff

    def render(self, user: User, pair: TokenPair) -> dict:
        return {**session_answer("Login successful", user, pair), "staff_level": user.support_level}


class SupportProfileView(SupportView):
    @_schema("The staff member's own account", dict, 401, 403)
    def get(self, request: Request) -> Response:
        return Response({"success": True, "staff": s.StaffProfileSerializer(request.user).data})


class SupportPermissionsView(SupportView):
    @_schema(
        "The staff level's rights and the user fields it sees and may change",
        s.StaffPermissionsSerializer,
        401,
        403,
    )
    def get(self, request: Request) -> Response:
        return Response({"success": True, **s.staff_permissions_body(request.user.support_level)})


# ----- users --------------------------------------------------------------------------


class SupportUsersView(SupportView):
    required_right = SupportRight.VIEW_USERS
    pagination_class = EnvelopePagination
    serializer_class = s.SupportUserSerializer

    @_schema(
        "Plain users in reach, newest first, with the level's fields",
        s.SupportUserSerializer(many=True),
        400,
        401,
        403,
        parameters=[s.SupportUserFilterSerializer],
    )
    def get(self, request: Request) -> Response:
        filters = validated_data(s.SupportUserFilterSerializer, request.query_params)
        users = selectors.support_users_list(staff=request.user, filters=filters)
        page = self.paginate_queryset(users)
        return self.get_paginated_response([self.user_body(user) for user in page])


class SupportUserView(SupportView):
    @_schema("A user, with the level's fields", dict, *_ROUTE_ERRORS)
    def get(self, request: Request, pk: str) -> Response:
        rules.support_right_require(request.user, SupportRight.VIEW_USERS)
        return Response({"success": True, "user": self.user_body(self.target(pk))})

    @_schema(
        "Change the fields the level may change (`editable_fields` of /permissions)",
        dict,
        400,
        *_ROUTE_ERRORS,
        409,
        415,
        request=s.SupportUserUpdateSerializer,
    )
    def put(self, request: Request, pk: str) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationFailed("The body must be a JSON object.")
        rules.support_fields_require(request.user, request.data.keys())
        user = self.target(pk)
        data = validated_data(s.SupportUserUpdateSerializer, request.data)
        user = services.support_user_update(actor=request.user, user=user, data=dict(data))
        return Response(
            {
                "success": True,
                "message": "User updated",
                "email_verification_pending": bool(user.pending_email),
                "user": self.user_body(user),
            }
        )


class SupportPasswordResetView(SupportView):
    required_right = SupportRight.RESET_PASSWORD

    @_schema(
        "Set a user's password (password policy applies); their sessions end",
        dict,
        400,
        *_ROUTE_ERRORS,
        415,
        request=s.SupportPasswordResetSerializer,
    )
    def post(self, request: Request, pk: str) -> Response:
        user = self.target(pk)
        data = validated_data(s.SupportPasswordResetSerializer, request.data)
        services.support_password_reset(
            actor=request.user, user=user, new_password=data["new_password"]
        )
        return Response(
            {
                "success": True,
                "message": "Password reset; every session of the user has ended.",
                "user_id": user.pk,
            }
        )


class SupportCreditsView(SupportView):
    required_right = SupportRight.EDIT_CREDITS

    @_schema(
        "Set a user's credits and limits (with a ledger row)",
        dict,
        400,
        *_ROUTE_ERRORS,
        415,
        request=s.SupportCreditsSerializer,
    )
    def put(self, request: Request, pk: str) -> Response:
        user = self.target(pk)
        data = validated_data(s.SupportCreditsSerializer, request.data)
        services.support_credits_set(
            actor=request.user,
            user=user,
            credits=data.get("credits"),
            limits=data.get("limits"),
            reason=data.get("reason", ""),
        )
        return Response(
            {
                "success": True,
                "message": "Credits updated",
                "user_id": user.pk,
                **balance_body(user),
            }
        )


class SupportPlanView(SupportView):
    required_right = SupportRight.EDIT_PLAN

    @_schema(
        "Put a user on a subscription plan",
        dict,
        400,
        *_ROUTE_ERRORS,
        415,
        request=s.SupportPlanSerializer,
    )
    def put(self, request: Request, pk: str) -> Response:
        user = self.target(pk)
        data = validated_data(s.SupportPlanSerializer, request.data)
        changed = services.support_plan_set(
            actor=request.user,
            user=user,
            plan=data["subscription_plan"],
            reason=data.get("reason", ""),
        )
        return Response(
            {"success": True, "message": "Plan updated", "user": self.user_body(changed.user)}
        )


# ----- a user's records (advanced) ----------------------------------------------------


class NewestFirst(EnvelopeCursorPagination):
    ordering = ("-timestamp", "-id")


class SupportUserMessagesView(SupportView):
    required_right = SupportRight.READ_MESSAGES
    pagination_class = NewestFirst
    serializer_class = MessageLogSerializer

    @_schema(
        "A user's conversations, newest first, in keyset pages (each read is audited)",
        MessageLogSerializer(many=True),
        400,
        *_ROUTE_ERRORS,
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="from this time on"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="before this time"),
            OpenApiParameter("model", OpenApiTypes.STR, description="only this model"),
        ],
    )
    def get(self, request: Request, pk: str) -> Response:
        user = self.target(pk)
        messages = selectors.support_user_messages(user=user, filters=request.query_params)
        page = self.paginate_queryset(messages)
        services.support_messages_read_record(
            actor=request.user, user=user, filters=dict(request.query_params.items())
        )
        return self.get_paginated_response(MessageLogSerializer(page, many=True).data)


class SupportUserApiKeysView(SupportView):
    required_right = SupportRight.MANAGE_API_KEYS

    @_schema(
        "A user's API keys, masked (the secret is never shown)",
        results_list("SupportApiKeyList", APIKeySerializer, success=True),
        *_ROUTE_ERRORS,
    )
    def get(self, request: Request, pk: str) -> Response:
        user = self.target(pk)
        keys = selectors.support_user_api_keys(user=user)
        services.support_api_keys_read_record(actor=request.user, user=user)
        return Response({"success": True, "results": APIKeySerializer(keys, many=True).data})


class SupportUserApiKeyRevokeView(SupportView):
    required_right = SupportRight.MANAGE_API_KEYS

    @_schema("Revoke one of a user's API keys", dict, *_ROUTE_ERRORS)
    def post(self, request: Request, pk: str, key_id: str) -> Response:
        user = self.target(pk)
        key = selectors.support_user_api_key(user=user, key_id=int(key_id))
        key = services.support_api_key_revoke(actor=request.user, user=user, key=key)
        return Response(
            {"success": True, "message": "API key revoked", "api_key": APIKeySerializer(key).data}
        )


class SupportUserApiKeyRegenerateView(SupportView):
    required_right = SupportRight.MANAGE_API_KEYS

    @_schema(
        "Replace one of a user's API keys; the new key is shown once, to hand to the user",
        dict,
        *_ROUTE_ERRORS,
        409,
    )
    def post(self, request: Request, pk: str, key_id: str) -> Response:
        user = self.target(pk)
        key = selectors.support_user_api_key(user=user, key_id=int(key_id))
        issued = services.support_api_key_regenerate(actor=request.user, user=user, key=key)
        return Response({"success": True, "message": "API key regenerated", **issued_body(issued)})
