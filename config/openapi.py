"""Shared OpenAPI pieces: the error envelope and a helper to attach it to operations."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

_DESCRIPTIONS = {
    400: "Validation failed or malformed body",
    401: "Missing, invalid or revoked credentials",
    403: "Not allowed (closed registration, suspended account, missing permission)",
    404: "Not found",
    409: "Conflict (email or username taken)",
    413: "Request body too large",
    415: "Unsupported media type",
    423: "Account locked",
    429: "Too many requests",
    503: "A dependency is down",
}


class ErrorDetailsSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    timestamp = serializers.DateTimeField()


class ErrorEnvelopeSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    message = serializers.CharField()
    errors = serializers.ListField(child=serializers.CharField())
    error_code = serializers.CharField(required=False)
    details = ErrorDetailsSerializer()


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Document the envelope for each listed status (400 and 415 on every body)."""
    return {
        code: OpenApiResponse(ErrorEnvelopeSerializer, description=_DESCRIPTIONS[code])
        for code in statuses
    }


def strip_optional_trailing_slash(endpoints: list, **kwargs) -> list:
    """Document every path without its trailing slash, the form the product documents use.

    Every API route of this service matches with or without the slash.
    """
    return [
        (path.rstrip("/") if path != "/" else path, regex, method, view)
        for path, regex, method, view in endpoints
    ]
