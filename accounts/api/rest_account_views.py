"""/api/v1/users/me/sessions and /export, and /api/v1/auth's lifecycle endpoints
(verify email, reset password, recover account)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import serializers as s
from accounts.api.base_views import PublicAPIView
from accounts.auth.jwt_tokens import SESSION_CLAIM
from accounts.models import LoginSession
from accounts.selectors import other_sessions_of, personal_data_export, sessions_visible_to
from accounts.services import lifecycle
from accounts.services.sessions import session_revoke, sessions_revoke_each
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
        sessions = sessions_visible_to(request.user)
        context = {"current_session_id": request.auth[SESSION_CLAIM]}
        return Response(
            {"results": s.LoginSessionSerializer(sessions, many=True, context=context).data}
        )


class SessionDetailView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    allows_read_only_role = True  # ending one's own session is a logout
    serializer_class = s.MessageSerializer

    @extend_schema(
        tags=["sessions"],
        summary="End one of the caller's sessions",
        responses={200: s.MessageSerializer, **error_responses(401, 404)},
    )
    def delete(self, request: Request, session_id: str) -> Response:
        session = get_object_or_404(sessions_visible_to(request.user), pk=session_id)
        session_revoke(
            session_id=str(session.pk), reason=LoginSession.RevokeReason.REVOKED, actor=request.user
        )
        return Response({"message": "Session ended."})


class RevokeOtherSessionsView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    allows_read_only_role = True  # logging out elsewhere, e.g. after a stolen token
    serializer_class = s.MessageSerializer

    @extend_schema(
        tags=["sessions"],
        summary="Log out everywhere else",
        request=None,
        responses={200: s.MessageSerializer, **error_responses(401)},
    )
    def post(self, request: Request) -> Response:
        others = other_sessions_of(request.user, current_session_id=request.auth[SESSION_CLAIM])
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
