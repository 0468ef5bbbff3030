"""The /v1/users API, with the exact bodies and answers of the product documents."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.api import serializers as s
from accounts.api.views import PublicAPIView
from accounts.client import client_info
from accounts.login import login_with_password
from accounts.models import LoginSession
from accounts.sessions import session_refresh, session_revoke
from accounts.tokens import SESSION_CLAIM, TokenPair
from config.openapi import error_responses

TAG = "v1 users"


def session_body(pair: TokenPair) -> dict:
    return {
        "session_token": pair.access,
        "refresh_token": pair.refresh,
        "expires_at": pair.access_expires_at,
        "refresh_expires_at": pair.refresh_expires_at,
    }


class ProductRegisterView(PublicAPIView):
    serializer_class = s.ProductRegisterSerializer

    @extend_schema(
        tags=[TAG],
        summary="Register a new account",
        responses={201: s.ProductRegisteredSerializer, **error_responses(400, 403, 409, 415)},
    )
    def post(self, request: Request) -> Response:
        user = services.user_register(**self.validated(request))
        body = {
            "success": True,
            "message": "User registered successfully",
            "user_id": user.pk,
            "username": user.username,
            "email": user.email,
            "verification_required": not user.is_verified,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class ProductLoginView(PublicAPIView):
    serializer_class = s.LoginSerializer

    @extend_schema(
        tags=[TAG],
        summary="Log in and open a session",
        responses={200: s.ProductLoginSerializer, **error_responses(400, 401, 403, 415)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(request)
        result = login_with_password(
            request=request,
            identifier=data["identifier"],
            password=data["password"],
            client=client_info(request),
            tenant_id=data.get("tenant_id"),
            remember_me=data["remember_me"],
        )
        return Response(
            {
                "success": True,
                "message": "Login successful",
                "user": s.ProductUserSerializer(result.user).data,
                "session": session_body(result.tokens),
            }
        )


class ProductRefreshView(PublicAPIView):
    serializer_class = s.RefreshSerializer

    @extend_schema(
        tags=[TAG],
        summary="Refresh the session (the refresh token rotates)",
        responses={200: s.ProductLoginSerializer, **error_responses(400, 401, 403, 415)},
    )
    def post(self, request: Request) -> Response:
        user, pair = session_refresh(raw_refresh_token=self.validated(request)["refresh_token"])
        return Response(
            {
                "success": True,
                "message": "Session refreshed",
                "user": s.ProductUserSerializer(user).data,
                "session": session_body(pair),
            }
        )


class ProductLogoutView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.ProductMessageSerializer

    @extend_schema(
        tags=[TAG],
        summary="Log out of the current session",
        request=None,
        responses={200: s.ProductMessageSerializer, **error_responses(401)},
    )
    def post(self, request: Request) -> Response:
        session_revoke(
            session_id=request.auth[SESSION_CLAIM], reason=LoginSession.RevokeReason.LOGOUT
        )
        return Response({"success": True, "message": "Logged out successfully"})


class ProductProfileView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.ProfileUpdateSerializer

    def _body(self, user) -> dict:
        return {"success": True, "user": s.ProductProfileSerializer(user).data}

    @extend_schema(
        tags=[TAG],
        summary="The caller's profile",
        responses={200: s.ProductProfileResponseSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(self._body(request.user))

    @extend_schema(
        tags=[TAG],
        summary="Update name, about me, hobbies, user type or preferences",
        responses={200: s.ProductProfileResponseSerializer, **error_responses(400, 401, 415)},
    )
    def put(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, data=serializer.validated_data)
        return Response({**self._body(user), "message": "Profile updated successfully"})


class ProductPasswordView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.ProductChangePasswordSerializer

    @extend_schema(
        tags=[TAG],
        summary="Change the password; every session ends and a new one is returned",
        responses={200: s.ProductPasswordChangedSerializer, **error_responses(400, 401, 415)},
    )
    def put(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.password_change(
            user=request.user,
            current_password=serializer.validated_data["current_password"],
            new_password=serializer.validated_data["new_password"],
            client=client_info(request),
        )
        return Response(
            {
                "success": True,
                "message": "Password updated successfully",
                "session": session_body(pair),
            }
        )
