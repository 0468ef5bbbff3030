"""The bases every accounts view builds on: body validation, public and authenticated
views, the caller's client, and the token-pair answer of the REST API."""

from django.http import HttpRequest
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request

from accounts.api import serializers as s
from accounts.auth.jwt_tokens import TokenPair
from accounts.auth.password_policy import password_is_expired
from accounts.models import User
from accounts.services.sessions import ClientInfo
from security.client_ip import client_ip_or_none


def client_info(request: HttpRequest) -> ClientInfo:
    """Who is calling: the same client address the firewall and the audit log see."""
    return ClientInfo(
        ip_address=client_ip_or_none(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
    )


def token_pair_body(user: User, pair: TokenPair) -> dict:
    return dict(
        access_token=pair.access,
        refresh_token=pair.refresh,
        token_type="bearer",  # noqa: S106 - the token scheme, not a secret
        expires_in=pair.access_expires_in,
        expires_at=pair.access_expires_at,
        refresh_expires_at=pair.refresh_expires_at,
        session_id=pair.session_id,
        password_expired=password_is_expired(user),
        user=s.UserSerializer(user).data,
    )


def validated_data(serializer_class, data, **kwargs) -> dict:
    """The serializer's validated data; a 400 in the envelope when it is invalid."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ValidatingAPIView(GenericAPIView):
    def validated(self, request: Request) -> dict:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class PublicAPIView(ValidatingAPIView):
    """Endpoints that take credentials in the body: a stale Authorization header is ignored."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class AuthenticatedView(ValidatingAPIView):
    permission_classes = [IsAuthenticated]
