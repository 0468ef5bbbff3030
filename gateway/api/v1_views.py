"""The metered endpoints: /v1/prompt/completions and /v1/batch/process."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authz import rules as authz
from accounts.authz.roles import Permission
from apikeys.permissions import key_allows
from core.openapi import error_responses
from gateway import services
from gateway.api.serializers import BatchRequestSerializer, CompletionRequestSerializer
from gateway.prompts import prompt_from, prompts_from
from security.client_ip import client_ip


class MayUseModels(BasePermission):
    """The owner's role must allow model use (a key's scopes are checked apart)."""

    message = "This account may not use the models."

    def has_permission(self, request, view) -> bool:
        return authz.can(request.user, Permission.READ_MODELS)


class MeteredView(APIView):
    accepts_api_keys = True
    # A completion reads a model (`read:models`): a read-only role with credits may call it.
    allows_read_only_role = True
    permission_classes = [MayUseModels, key_allows(Permission.READ_MODELS)]


class CompletionView(MeteredView):
    @extend_schema(
        tags=["metered"],
        summary="A chat completion; takes one conversation credit",
        request=CompletionRequestSerializer,
        responses={200: dict, **error_responses(400, 401, 403, 429, 502, 504)},
    )
    def post(self, request: Request) -> Response:
        body = services.complete(
            user=request.user, prompt=prompt_from(request.data), ip_address=client_ip(request)
        )
        return Response(body)


class BatchView(MeteredView):
    @extend_schema(
        tags=["metered"],
        summary="Several completions; N prompts take N credits, all or none",
        request=BatchRequestSerializer,
        responses={200: dict, **error_responses(400, 401, 403, 429, 502, 504)},
    )
    def post(self, request: Request) -> Response:
        results = services.complete_batch(
            user=request.user, prompts=prompts_from(request.data), ip_address=client_ip(request)
        )
        return Response({"object": "batch", "count": len(results), "results": results})
