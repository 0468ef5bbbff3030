"""The metered endpoints: /v1/prompt/completions and /v1/batch/process."""

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import authz
from accounts.roles import Permission
from apikeys.services import KeyIdentity
from config.openapi import error_responses
from gateway import services
from security.client_ip import client_ip

ROLES = frozenset({"system", "user", "assistant"})
MAX_MESSAGES = 100
MAX_CONTENT = 100_000


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_MESSAGES,
        "items": {
            "type": "object",
            "required": ["role", "content"],
            "properties": {
                "role": {"type": "string", "enum": sorted(ROLES)},
                "content": {"type": "string", "maxLength": MAX_CONTENT},
            },
        },
    }
)
class ChatMessagesField(serializers.Field):
    """`[{"role": "user", "content": "…"}, …]`, checked by hand: a nested serializer
    per message costs more than the rest of the request."""

    default_error_messages = {
        "invalid": "A list of 1 to 100 messages with a role (system, user, assistant) "
        "and a string content of at most 100000 characters.",
    }

    def to_internal_value(self, data) -> list[dict]:
        if not isinstance(data, list) or not 1 <= len(data) <= MAX_MESSAGES:
            self.fail("invalid")
        messages = []
        for item in data:
            if (
                not isinstance(item, dict)
                or item.get("role") not in ROLES
                or not isinstance(item.get("content"), str)
                or len(item["content"]) > MAX_CONTENT
            ):
                self.fail("invalid")
            messages.append({"role": item["role"], "content": item["content"]})
        return messages

    def to_representation(self, value):
        return value


class CompletionRequestSerializer(serializers.Serializer):
    level = serializers.CharField(max_length=32, required=False, default="medium")
    messages = ChatMessagesField()
    r_type = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)
    model = serializers.CharField(max_length=100, required=False)
    research_enabled = serializers.BooleanField(required=False, default=False)


class BatchRequestSerializer(serializers.Serializer):
    prompts = serializers.ListField(child=CompletionRequestSerializer(), min_length=1)

    def validate_prompts(self, prompts: list) -> list:
        if len(prompts) > settings.BATCH_MAX_PROMPTS:
            raise serializers.ValidationError(
                f"At most {settings.BATCH_MAX_PROMPTS} prompts per batch."
            )
        return prompts


class MayUseModels(BasePermission):
    """The owner's role must allow model use, and so must the key's scopes."""

    message = "This account or key may not use the models."

    def has_permission(self, request, view) -> bool:
        if not authz.can(request.user, Permission.READ_MODELS):
            return False
        identity = request.auth
        return not isinstance(identity, KeyIdentity) or identity.allows(Permission.READ_MODELS)


def _prompt(data: dict) -> services.Prompt:
    return services.Prompt(
        messages=data["messages"],
        model=data.get("model") or services.default_model(),
        level=data["level"],
        r_type=data["r_type"],
        research_enabled=data["research_enabled"],
    )


class MeteredView(APIView):
    accepts_api_keys = True
    permission_classes = [MayUseModels]

    def validated(self, serializer_class, request: Request) -> dict:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class CompletionView(MeteredView):
    @extend_schema(
        tags=["metered"],
        summary="A chat completion; takes one conversation credit",
        request=CompletionRequestSerializer,
        responses={200: dict, **error_responses(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(CompletionRequestSerializer, request)
        body = services.complete(
            user=request.user, prompt=_prompt(data), ip_address=client_ip(request)
        )
        return Response(body)


class BatchView(MeteredView):
    @extend_schema(
        tags=["metered"],
        summary="Several completions; N prompts take N credits, all or none",
        request=BatchRequestSerializer,
        responses={200: dict, **error_responses(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(BatchRequestSerializer, request)
        results = services.complete_batch(
            user=request.user,
            prompts=[_prompt(item) for item in data["prompts"]],
            ip_address=client_ip(request),
        )
        return Response({"object": "batch", "count": len(results), "results": results})
