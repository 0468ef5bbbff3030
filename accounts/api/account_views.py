"""The caller's sessions and data, and the lifecycle endpoints (verify, reset, delete, recover)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import lifecycle
from accounts.api import serializers as s
from accounts.api.mfa_views import AuthenticatedView
from accounts.api.views import PublicAPIView
from accounts.export import personal_data_export
from accounts.models import LoginSession
from accounts.selectors import login_sessions_active_for_user
from accounts.sessions import session_revoke, sessions_revoke_each
from accounts.tokens import SESSION_CLAIM
from core.openapi import error_responses, results_list
from security import ratelimits

GENERIC_LINK_ANSWER = "If an account matches, an email is on its way."


class SessionListView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.LoginSessionSerializer

    @extend_schema(
        tags=["sessions"],
        summary="The caller's live login sessions",
        responses={
            200: results_list("LoginSessionList", s.LoginSessionSerializer),
            **error_responses(401),
        },
    )
    def get(self, request: Request) -> Response:
        sessions = login_sessions_active_for_user(user=request.user)
        context = {"current_session_id": request.auth[SESSION_CLAIM]}
        return Response(
            {"results": s.LoginSessionSerializer(sessions, many=True, context=context).data}
        )


class SessionDetailView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.MessageSerializer

    @extend_schema(
        tags=["sessions"],
        summary="End one of the caller's sessions",
        responses={200: s.MessageSerializer, **error_responses(401, 404)},
    )
    def delete(self, request: Request, session_id: str) -> Response:
        session = get_object_or_404(
            login_sessions_active_for_user(user=request.user), pk=session_id
        )
        session_revoke(
            session_id=str(session.pk), reason=LoginSession.RevokeReason.REVOKED, actor=request.user
        )
        return Response({"message": "Session ended."})


class RevokeOtherSessionsView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.MessageSerializer

    @extend_schema(
        tags=["sessions"],
        summary="Log out everywhere else",
        request=None,
        responses={200: s.MessageSerializer, **error_responses(401)},
    )
    def post(self, request: Request) -> Response:
        current = request.auth[SESSION_CLAIM]
        others = login_sessions_active_for_user(user=request.user).exclude(pk=current)
        ended = sessions_revoke_each(
            others.values_list("pk", flat=True),
            reason=LoginSession.RevokeReason.OTHER_SESSION,
            actor=request.user,
        )
        return Response({"message": f"{ended} other session(s) ended."})


class ExportView(GenericAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["users"],
        summary="Everything held about the caller, as JSON",
        responses={200: dict, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(personal_data_export(user=request.user))


class VerifyEmailView(PublicAPIView):
    serializer_class = s.TokenSerializer

    @extend_schema(
        tags=["auth"],
        summary="Confirm an email address with the emailed token",
        responses={200: s.MessageSerializer, **error_responses(400, 409)},
    )
    def post(self, request: Request) -> Response:
        lifecycle.email_verify(token=self.validated(request)["token"])
        return Response({"message": "Email address verified."})


class ResendVerificationView(PublicAPIView):
    serializer_class = s.EmailSerializer

    @extend_schema(
        tags=["auth"],
        summary="Send the verification email again",
        responses={202: s.MessageSerializer, **error_responses(400, 429)},
    )
    @ratelimits.rate_limited(ratelimits.PASSWORD_RESET_PER_IP)
    def post(self, request: Request) -> Response:
        lifecycle.email_verification_resend(email=self.validated(request)["email"])
        return Response({"message": GENERIC_LINK_ANSWER}, status=status.HTTP_202_ACCEPTED)


class PasswordResetView(PublicAPIView):
    serializer_class = s.EmailSerializer

    @extend_schema(
        tags=["auth"],
        summary="Email a password-reset token (same answer either way)",
        responses={202: s.MessageSerializer, **error_responses(400, 429)},
    )
    @ratelimits.rate_limited(ratelimits.PASSWORD_RESET_PER_IP)
    def post(self, request: Request) -> Response:
        lifecycle.password_reset_request(email=self.validated(request)["email"])
        return Response({"message": GENERIC_LINK_ANSWER}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicAPIView):
    serializer_class = s.ResetConfirmSerializer

    @extend_schema(
        tags=["auth"],
        summary="Set a new password with the emailed token",
        responses={200: s.MessageSerializer, **error_responses(400, 429)},
    )
    @ratelimits.rate_limited(ratelimits.PASSWORD_RESET_PER_IP)
    def post(self, request: Request) -> Response:
        data = self.validated(request)
        lifecycle.password_reset_confirm(token=data["token"], new_password=data["new_password"])
        return Response({"message": "Password changed; every session has been ended."})


class RecoverAccountView(PublicAPIView):
    serializer_class = s.EmailSerializer

    @extend_schema(
        tags=["auth"],
        summary="Email a recovery token for a deleted account",
        responses={202: s.MessageSerializer, **error_responses(400, 429)},
    )
    @ratelimits.rate_limited(ratelimits.PASSWORD_RESET_PER_IP)
    def post(self, request: Request) -> Response:
        lifecycle.account_recovery_request(email=self.validated(request)["email"])
        return Response({"message": GENERIC_LINK_ANSWER}, status=status.HTTP_202_ACCEPTED)


class RecoverAccountConfirmView(PublicAPIView):
    serializer_class = s.TokenSerializer

    @extend_schema(
        tags=["auth"],
        summary="Restore a deleted account with the emailed token",
        responses={200: s.MessageSerializer, **error_responses(400, 429)},
    )
    @ratelimits.rate_limited(ratelimits.PASSWORD_RESET_PER_IP)
    def post(self, request: Request) -> Response:
        lifecycle.account_recover(token=self.validated(request)["token"])
        return Response({"message": "Account restored; you can log in again."})


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
