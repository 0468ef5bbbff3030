"""/api/v1/auth/mfa: enrol a TOTP app, finish a two-step login, manage recovery codes."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import serializers as s
from accounts.api.base_views import (
    AuthenticatedView,
    PublicAPIView,
    client_info,
    token_pair_body,
)
from accounts.auth.jwt_tokens import TokenPair
from accounts.models import User
from accounts.services import mfa
from accounts.services.login import complete_mfa_login
from core.openapi import error_responses
from security import ratelimits

TAG = "mfa"


class TotpSetupView(AuthenticatedView):
    allows_read_only_role = True  # securing one's own login, like a password change
    serializer_class = s.PasswordOnlySerializer

    @extend_schema(
        tags=[TAG],
        summary="Start TOTP enrolment (needs the password); scan the QR code, then confirm",
        responses={200: s.TotpEnrolmentSerializer, **error_responses(400, 401, 423, 429)},
    )
    @ratelimits.rate_limited(ratelimits.MFA_PER_USER)
    def post(self, request: Request) -> Response:
        enrolment = mfa.totp_setup(
            request=request,
            user=request.user,
            actor=request.user,
            password=self.validated(request)["password"],
        )
        return Response(
            {
                "otpauth_uri": enrolment.otpauth_uri,
                "secret": enrolment.secret,
                "qr_code": enrolment.qr_code,
            }
        )


class TotpConfirmView(AuthenticatedView):
    allows_read_only_role = True  # securing one's own login, like a password change
    serializer_class = s.MfaCodeSerializer

    @extend_schema(
        tags=[TAG],
        summary="Confirm enrolment with a first code; answers the recovery codes, once",
        responses={200: s.RecoveryCodesSerializer, **error_responses(400, 401, 429)},
    )
    @ratelimits.rate_limited(ratelimits.MFA_PER_USER)
    def post(self, request: Request) -> Response:
        codes = mfa.totp_confirm(
            user=request.user, actor=request.user, code=self.validated(request)["code"]
        )
        return Response(
            {"message": "MFA is on. Keep these recovery codes safe.", "recovery_codes": codes}
        )


class MfaVerifyView(PublicAPIView):
    """The second step of a login; a wrong code counts as a failed login."""

    serializer_class = s.MfaVerifySerializer
    defers_ip_block = True

    @extend_schema(
        tags=[TAG],
        summary="Finish a login with a TOTP or recovery code",
        responses={200: s.TokenPairSerializer, **error_responses(400, 401, 403, 423, 429)},
    )
    @ratelimits.rate_limited(ratelimits.MFA_PER_USER)
    def post(self, request: Request) -> Response:
        data = self.validated(request)
        result = complete_mfa_login(
            request=request,
            mfa_token=data["mfa_token"],
            code=data["code"],
            client=client_info(request),
        )
        return Response(self.render(result.user, result.tokens))

    def render(self, user: User, pair: TokenPair) -> dict:
        return token_pair_body(user, pair)


class RecoveryCodesView(AuthenticatedView):
    allows_read_only_role = True  # securing one's own login, like a password change
    serializer_class = s.PasswordAndCodeSerializer

    @extend_schema(
        tags=[TAG],
        summary="Replace the recovery codes (needs the password and a current code)",
        responses={200: s.RecoveryCodesSerializer, **error_responses(400, 401, 423, 429)},
    )
    @ratelimits.rate_limited(ratelimits.MFA_PER_USER)
    def post(self, request: Request) -> Response:
        data = self.validated(request)
        codes = mfa.recovery_codes_regenerate(
            request=request,
            user=request.user,
            actor=request.user,
            password=data["password"],
            code=data["code"],
        )
        return Response(
            {"message": "New recovery codes; the old ones no longer work.", "recovery_codes": codes}
        )


class MfaDisableView(AuthenticatedView):
    allows_read_only_role = True  # securing one's own login, like a password change
    serializer_class = s.PasswordAndCodeSerializer

    @extend_schema(
        tags=[TAG],
        summary="Turn MFA off (needs the password and a current code)",
        responses={200: s.MessageSerializer, **error_responses(400, 401, 423, 429)},
    )
    @ratelimits.rate_limited(ratelimits.MFA_PER_USER)
    def post(self, request: Request) -> Response:
        data = self.validated(request)
        mfa.mfa_disable(
            request=request,
            user=request.user,
            actor=request.user,
            password=data["password"],
            code=data["code"],
        )
        return Response({"message": "MFA is off."})
