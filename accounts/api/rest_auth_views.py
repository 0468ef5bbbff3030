"""/api/v1/auth (register, login, refresh, logout, change password) and /api/v1/users/me.

Each view parses, calls one service and renders through `render()`; the /v1/users
views in `accounts.api.v1_views` subclass these and only change the rendering.
"""

from django.conf import settings
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import serializers as s
from accounts.api.base_views import (
    PublicAPIView,
    ValidatingAPIView,
    client_info,
    token_pair_body,
)
from accounts.auth.jwt_tokens import SESSION_CLAIM, TokenPair
from accounts.authz.roles import Permission
from accounts.models import LoginSession, User
from accounts.services import lifecycle, passwords, users
from accounts.services.login import login_with_password
from accounts.services.sessions import session_refresh, session_revoke
from core.openapi import error_responses
from security import ratelimits


class RegisterView(PublicAPIView):
    serializer_class = s.RegisterSerializer

    @extend_schema(
        tags=["auth"],
        summary="Register a new account",
        responses={201: s.UserSerializer, **error_responses(400, 403, 409, 413, 415, 429)},
    )
    @ratelimits.rate_limited(ratelimits.REGISTER_PER_IP)
    def post(self, request: Request) -> Response:
        registration = users.user_register(**self.validated(request))
        return Response(self.render(registration), status=status.HTTP_201_CREATED)

    def render(self, registration: users.Registration) -> dict:
        return s.UserSerializer(registration.user).data


class LoginView(PublicAPIView):
    serializer_class = s.LoginSerializer
    defers_ip_block = True
    session_surface = LoginSession.Surface.API

    @extend_schema(
        tags=["auth"],
        summary="Log in with email or username and password",
        responses={
            200: PolymorphicProxySerializer(
                "LoginResult",
                serializers=[s.TokenPairSerializer, s.MfaRequiredSerializer],
                resource_type_field_name=None,
            ),
            **error_responses(400, 401, 403, 415, 423, 429),
        },
    )
    @ratelimits.rate_limited(ratelimits.LOGIN_PER_IP, ratelimits.LOGIN_PER_ACCOUNT)
    def post(self, request: Request) -> Response:
        data = self.validated(request)
        result = login_with_password(
            request=request,
            identifier=data["identifier"],
            password=data["password"],
            client=client_info(request),
            tenant_id=data.get("tenant_id"),
            remember_me=data["remember_me"],
            surface=self.session_surface,
            admits=self.admits,
        )
        if result.mfa_token:
            return Response(self.render_mfa_required(result.mfa_token))
        return Response(self.render(result.user, result.tokens))

    def admits(self, user: User) -> bool:
        """Who may open a session here (the staff logins narrow it)."""
        return True

    def render(self, user: User, pair: TokenPair) -> dict:
        return token_pair_body(user, pair)

    def render_mfa_required(self, mfa_token: str) -> dict:
        return dict(
            mfa_required=True, mfa_token=mfa_token, expires_in=settings.MFA_CHALLENGE_SECONDS
        )


class RefreshView(PublicAPIView):
    serializer_class = s.RefreshSerializer

    @extend_schema(
        tags=["auth"],
        summary="Exchange a refresh token for a new pair (the old one dies)",
        responses={200: s.TokenPairSerializer, **error_responses(400, 401, 403, 415, 429)},
    )
    @ratelimits.rate_limited(ratelimits.REFRESH_PER_IP)
    def post(self, request: Request) -> Response:
        user, pair = session_refresh(
            raw_refresh_token=self.validated(request)["refresh_token"],
            client=client_info(request),
        )
        return Response(self.render(user, pair))

    def render(self, user: User, pair: TokenPair) -> dict:
        return token_pair_body(user, pair)


class LogoutView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    allows_expired_password = True
    allows_read_only_role = True
    serializer_class = s.MessageSerializer

    @extend_schema(
        tags=["auth"],
        summary="End the current login session",
        request=None,
        responses={200: s.MessageSerializer, **error_responses(401)},
    )
    def post(self, request: Request) -> Response:
        session_revoke(
            session_id=request.auth[SESSION_CLAIM],
            reason=LoginSession.RevokeReason.LOGOUT,
            actor=request.user,
        )
        return Response(self.render())

    def render(self) -> dict:
        return {"message": "Logged out."}


class ChangePasswordView(ValidatingAPIView):
    permission_classes = [IsAuthenticated]
    allows_expired_password = True
    allows_read_only_role = True
    serializer_class = s.ChangePasswordSerializer

    @extend_schema(
        tags=["auth"],
        summary="Change the password; every session ends and a new one is returned",
        responses={200: s.PasswordChangedSerializer, **error_responses(400, 401, 415, 423, 429)},
    )
    def post(self, request: Request) -> Response:
        return self.change_password(request)

    @ratelimits.rate_limited(ratelimits.PASSWORD_CHANGE_PER_USER)
    def change_password(self, request: Request) -> Response:
        data = self.validated(request)
        pair = passwords.password_change(
            request=request,
            user=request.user,
            actor=request.user,
            current_password=data["current_password"],
            new_password=data["new_password"],
            client=client_info(request),
            session_id=request.auth[SESSION_CLAIM],
        )
        return Response(self.render(request.user, pair))

    def render(self, user: User, pair: TokenPair) -> dict:
        return {"message": "Password changed.", **token_pair_body(user, pair)}


class MeView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    # A key allowed `read:self` (the default `read` scope does) or `read:users` reads
    # its owner's account; changing or deleting it needs a login session.
    accepts_api_keys = True
    api_key_permissions = {"get": (Permission.READ_SELF, Permission.READ_USERS)}
    serializer_class = s.ProfileUpdateSerializer

    @extend_schema(
        tags=["users"],
        summary="The caller's account",
        responses={200: s.UserSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(self.render(request.user))

    @extend_schema(
        tags=["users"],
        summary="Update the caller's profile (only profile fields; others are ignored)",
        responses={200: s.UserSerializer, **error_responses(400, 401, 415)},
    )
    def put(self, request: Request) -> Response:
        return self.update_profile(request)

    @extend_schema(
        tags=["users"],
        summary="Partially update the caller's profile",
        responses={200: s.UserSerializer, **error_responses(400, 401, 415)},
    )
    def patch(self, request: Request) -> Response:
        return self.update_profile(request)

    @extend_schema(
        tags=["users"],
        summary="Delete the caller's account (needs the password; recoverable for a while)",
        request=s.AccountDeleteSerializer,
        responses={200: s.MessageSerializer, **error_responses(400, 401, 423, 429)},
    )
    def delete(self, request: Request) -> Response:
        serializer = s.AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lifecycle.account_delete(
            request=request,
            user=request.user,
            actor=request.user,
            password=serializer.validated_data["password"],
            reason=serializer.validated_data.get("reason", ""),
        )
        return Response({"message": "Account deleted; it can be recovered by email for a while."})

    def update_profile(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = users.user_update_profile(
            user=request.user, actor=request.user, data=serializer.validated_data
        )
        return Response(self.render(user, updated=True))

    def render(self, user: User, updated: bool = False) -> dict:
        return s.UserSerializer(user).data
