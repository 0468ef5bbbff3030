"""Shared OpenAPI pieces: the error envelope, list bodies, and the schema class that
documents the errors every operation can answer."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from core.middleware import UNMETERED_PATH_PREFIXES

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
    502: "The model backend failed; the credit is refunded",
    503: "A dependency is down",
    504: "The model backend did not answer in time; the credit is refunded",
}


class ErrorDetailsSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    timestamp = serializers.DateTimeField()


class ErrorEnvelopeSerializer(serializers.Serializer):
    success = serializers.BooleanField(help_text="Always false on an error.")
    message = serializers.CharField()
    errors = serializers.ListField(child=serializers.CharField())
    error_code = serializers.CharField(required=False)
    details = ErrorDetailsSerializer()


def error_responses(
    *statuses: int, body: type[serializers.Serializer] = ErrorEnvelopeSerializer
) -> dict[int, OpenApiResponse]:
    """Document the envelope for each listed status, with a description of its own.

    EnvelopeAutoSchema adds the statuses every operation shares; this names the
    ones particular to an operation (409, 423) or gives a shared one a better word.
    """
    return {code: OpenApiResponse(body, description=_DESCRIPTIONS[code]) for code in statuses}


# The object an unpaged list answers: documented as it is, never as an array of it.
# (No docstring: the schema would copy it into every list's description.)
class ResultsBody(serializers.Serializer):
    pass


def results_list(
    name: str, item: type[serializers.Serializer], *, success: bool = False
) -> ResultsBody:
    """The body of an unpaged list: `{"results": [...]}`, with `success` when it says so."""
    fields: dict[str, serializers.Field] = {"results": item(many=True)}
    if success:
        fields = {"success": serializers.BooleanField(), **fields}
    return type(name, (ResultsBody,), fields)()


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class EnvelopeAutoSchema(AutoSchema):
    """Every operation documents, in the error envelope, each status the request path
    can answer before or around its view, so no operation needs to list them by hand:

    - 400 (a malformed body, query or Content-Length), 413 (a body over
      MAX_REQUEST_BODY_BYTES) and 503 (a dependency down) on every operation;
    - 403 (a blocked IP) and 429 (the per-IP budget) wherever the firewall looks;
    - 401 wherever a credential is read (a wrong one is refused even on public
      operations), and 403 where a permission is asked;
    - 415 where a body is parsed;
    - 404 where the path names a resource or the list is paged (`?page=` past the end).

    A subclass names another `error_body` for routes that wrap the envelope.
    """

    error_body: type[serializers.Serializer] = ErrorEnvelopeSerializer

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in sorted(self._shared_error_statuses()):
            if str(code) not in responses:
                envelope = OpenApiResponse(self.error_body, description=_DESCRIPTIONS[code])
                responses[str(code)] = self._get_response_for_code(
                    envelope, str(code), direction=direction
                )
        return dict(sorted(responses.items()))

    def _is_list_view(self, serializer=None) -> bool:
        if isinstance(serializer, ResultsBody):
            return False  # a list action's body object, not one item of the list
        return super()._is_list_view(serializer)

    def _shared_error_statuses(self) -> set[int]:
        statuses = {400, 413, 503}
        if not self.path.startswith(UNMETERED_PATH_PREFIXES):
            statuses |= {403, 429}
        if self.view.get_authenticators():
            statuses.add(401)
        if not all(isinstance(rule, AllowAny) for rule in self.view.get_permissions()):
            statuses |= {401, 403}
        if self.method in _BODY_METHODS:
            statuses.add(415)
        if self._names_a_resource() or self._is_paged_list():
            statuses.add(404)
        return statuses

    def _names_a_resource(self) -> bool:
        return "{" in self.path

    def _is_paged_list(self) -> bool:
        return self._is_list_view() and self._get_paginator() is not None


def strip_optional_trailing_slash(endpoints: list, **kwargs) -> list:
    """Document every path without its trailing slash, the documented form.

    Every API route of this service matches with or without the slash.
    """
    return [
        (path.rstrip("/") if path != "/" else path, regex, method, view)
        for path, regex, method, view in endpoints
    ]
