"""/v1/users: the REST views with the /v1 surface's bodies and answers, and the
/v1-only email change and account deletion."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import rest_auth_views as views
from accounts.api import serializers as s
from accounts.api.base_views import AuthenticatedView
from accounts.api.rest_avatar_views import AvatarView
from accounts.api.rest_mfa_views import MfaVerifyView
from accounts.auth.jwt_tokens import SESSION_CLAIM, TokenPair
from accounts.auth.password_policy import password_is_expired
from accounts.models import LoginSession, User
from accounts.services import lifecycle
from core.openapi import error_responses

TAG = "v1 users"


def session_body(pair: TokenPair) -> dict:
    return {
        "session_token": pair.access,
        "refresh_token": pair.refresh,
        "expires_at": pair.access_expires_at,
        "refresh_expires_at": pair.refresh_expires_at,
    }


def session_answer(message: str, user: User, pair: TokenPair) -> dict:
    return dict(
        success=True,
        message=message,
        user=s.ProductUserSerializer(user).data,
        session=session_body(pair),
        password_expired=password_is_expired(user),
    )


def _schema(summary: str, response, *errors: int):
    return extend_schema(
        tags=[TAG], summary=summary, responses={200: response, **error_responses(*errors)}
    )


@extend_schema_view(
    post=extend_schema(
        tags=[TAG],
        summary="Register a new account",
        responses={201: s.ProductRegisteredSerializer, **error_responses(400, 403, 409, 415, 429)},
    )
)
class V1RegisterView(views.RegisterView):
    serializer_class = s.ProductRegisterSerializer

    def render(self, registration) -> dict:
        user = registration.user
        return {
            "success": True,
            "message": "User registered successfully",
            "user_id": user.pk,
            "username": user.username,
            "email": user.email,
            "api_key": registration.api_key,
            "verification_required": not user.is_verified,
        }


@extend_schema_view(
    post=_schema(
        "Log in and open a session", s.ProductLoginSerializer, 400, 401, 403, 415, 423, 429
    )
)
class V1LoginView(views.LoginView):
    session_surface = LoginSession.Surface.USERS

    def render(self, user: User, pair: TokenPair) -> dict:
        return session_answer("Login successful", user, pair)

    def render_mfa_required(self, mfa_token: str) -> dict:
        return {
            "success": True,
            "message": "Enter the code from your authenticator app",
            **super().render_mfa_required(mfa_token),
        }


@extend_schema_view(
    post=_schema(
        "Finish a login with a TOTP or recovery code",
        s.ProductLoginSerializer,
        400,
        401,
        403,
        423,
        429,
    )
)
class V1MfaVerifyView(MfaVerifyView):
    def render(self, user: User, pair: TokenPair) -> dict:
        return session_answer("Login successful", user, pair)


@extend_schema_view(
    post=_schema(
        "Refresh the session (the refresh token rotates)",
        s.ProductLoginSerializer,
        400,
        401,
        403,
        415,
    )
)
class V1RefreshView(views.RefreshView):
    def render(self, user: User, pair: TokenPair) -> dict:
        return session_answer("Session refreshed", user, pair)


@extend_schema_view(
    post=extend_schema(
        tags=[TAG],
        summary="Log out of the current session",
        request=None,
        responses={200: s.ProductMessageSerializer, **error_responses(401)},
    )
)
class V1LogoutView(views.LogoutView):
    def render(self) -> dict:
        return {"success": True, "message": "Logged out successfully"}


@extend_schema_view(
    get=_schema("The caller's profile", s.ProductProfileResponseSerializer, 401),
    put=_schema(
        "Update name, about me, hobbies, phone, user type or preferences",
        s.ProductProfileResponseSerializer,
        400,
        401,
        415,
    ),
)
class V1ProfileView(views.MeView):
    http_method_names = ["get", "put", "options", "head"]

    def render(self, user: User, updated: bool = False) -> dict:
        body = {"success": True, "user": s.ProductProfileSerializer(user).data}
        if updated:
            body["message"] = "Profile updated successfully"
        return body


@extend_schema_view(
    put=extend_schema(
        tags=[TAG],
        summary="Set or replace the avatar (multipart field `avatar`)",
        request={"multipart/form-data": s.AvatarUploadSerializer},
        responses={
            200: s.ProductProfileUpdatedSerializer,
            **error_responses(400, 401, 403, 413, 415, 429),
        },
    ),
    delete=extend_schema(
        tags=[TAG],
        summary="Remove the avatar",
        request=None,
        responses={200: s.ProductProfileUpdatedSerializer, **error_responses(401, 403)},
    ),
)
class V1AvatarView(AvatarView):
    def render(self, user: User, message: str) -> dict:
        return {"success": True, "message": message, "user": s.ProductProfileSerializer(user).data}


@extend_schema_view(
    put=_schema(
        "Change the password; every session ends and a new one is returned",
        s.ProductPasswordChangedSerializer,
        400,
        401,
        415,
        423,
        429,
    )
)
class V1PasswordView(views.ChangePasswordView):
    http_method_names = ["put", "options", "head"]
    serializer_class = s.ProductChangePasswordSerializer

    def put(self, request: Request) -> Response:
        return self.change_password(request)

    def render(self, user: User, pair: TokenPair) -> dict:
        return {
            "success": True,
            "message": "Password updated successfully",
            "session": session_body(pair),
        }


class EmailChangeView(AuthenticatedView):
    serializer_class = s.EmailChangeSerializer

    @extend_schema(
        tags=["v1 users"],
        summary="Change the email address (needs the password)",
        responses={200: dict, **error_responses(400, 401, 409, 423, 429)},
    )
    def put(self, request: Request) -> Response:
        data = self.validated(request)
        pending = lifecycle.email_change(
            request=request,
            user=request.user,
            actor=request.user,
            new_email=data["email"],
            password=data["password"],
            current_session_id=request.auth[SESSION_CLAIM],
        )
        message = "Check the new address for a verification email." if pending else "Email updated."
        return Response({"success": True, "message": message, "verification_required": pending})


class AccountDeleteView(AuthenticatedView):
    serializer_class = s.AccountDeleteSerializer

    @extend_schema(
        tags=["v1 users"],
        summary="Delete the account (recoverable for a while)",
        responses={200: dict, **error_responses(400, 401, 423, 429)},
    )
    def delete(self, request: Request) -> Response:
        data = self.validated(request)
        lifecycle.account_delete(
            request=request,
            user=request.user,
            actor=request.user,
            password=data["password"],
            reason=data.get("reason", ""),
        )
        return Response(
            {
                "success": True,
                "message": "Account deleted. It can be recovered by email for a limited time.",
            }
        )
