"""The metered request bodies as the OpenAPI document shows them.

These serializers only describe; `gateway.prompts` does the checking, with the
same limits, which `gateway/tests/test_prompts.py` holds the two to.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.openapi import EnvelopeAutoSchema, ErrorEnvelopeSerializer, error_responses
from gateway import chat, prompts
from gateway.backends import offered_models


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "maxItems": prompts.MAX_MESSAGES,
        "items": {
            "type": "object",
            "required": ["role", "content"],
            "properties": {
                "role": {"type": "string", "enum": list(prompts.ROLES)},
                "content": {"type": "string", "maxLength": prompts.MAX_CONTENT},
            },
        },
    }
)
class ChatMessagesField(serializers.JSONField):
    """`[{"role": "user", "content": "…"}, …]`."""


class CompletionRequestSerializer(serializers.Serializer):
    level = serializers.CharField(
        max_length=prompts.MAX_LEVEL, required=False, default=prompts.DEFAULT_LEVEL
    )
    messages = ChatMessagesField()
    r_type = serializers.CharField(
        max_length=prompts.MAX_R_TYPE, required=False, default="", allow_blank=True
    )
    model = serializers.CharField(max_length=prompts.MAX_MODEL, required=False)
    research_enabled = serializers.BooleanField(required=False, default=False)


class BatchRequestSerializer(serializers.Serializer):
    prompts = serializers.ListField(
        child=CompletionRequestSerializer(),
        min_length=1,
        help_text="At most BATCH_MAX_PROMPTS prompts (20 unless configured).",
    )


# ----- the OpenAI-compatible routes -------------------------------------------------


class OpenAIErrorSerializer(ErrorEnvelopeSerializer):
    type = serializers.CharField(
        help_text="OpenAI's class of error: invalid_request_error, authentication_error, "
        "permission_error, insufficient_quota, rate_limit_error, api_error."
    )
    code = serializers.CharField(allow_null=True, help_text="The same as error_code.")
    param = serializers.CharField(
        allow_null=True, help_text="The first field a validation error names, else null."
    )


class OpenAIErrorBodySerializer(serializers.Serializer):
    error = OpenAIErrorSerializer(help_text="Our error envelope with OpenAI's fields added.")


class OpenAIAutoSchema(EnvelopeAutoSchema):
    error_body = OpenAIErrorBodySerializer


def openai_error_responses(*statuses: int) -> dict:
    return error_responses(*statuses, body=OpenAIErrorBodySerializer)


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "maxItems": prompts.MAX_MESSAGES,
        "items": {
            "type": "object",
            "required": ["role"],
            "properties": {
                "role": {"type": "string", "enum": list(chat.ROLES)},
                "content": {
                    "oneOf": [
                        {"type": "string", "maxLength": prompts.MAX_CONTENT},
                        {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "required": ["type", "text"],
                                "properties": {
                                    "type": {"type": "string", "enum": ["text"]},
                                    "text": {"type": "string"},
                                },
                            },
                        },
                        {"type": "null"},
                    ]
                },
                "tool_call_id": {"type": "string"},
            },
        },
    }
)
class OpenAIMessagesField(serializers.JSONField):
    """OpenAI's messages: content a string or a list of text parts."""


class StreamOptionsSerializer(serializers.Serializer):
    include_usage = serializers.BooleanField(required=False)


class ChatCompletionRequestSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=prompts.MAX_MODEL)
    messages = OpenAIMessagesField()
    temperature = serializers.FloatField(min_value=0, max_value=2, required=False)
    top_p = serializers.FloatField(min_value=0, max_value=1, required=False)
    max_tokens = serializers.IntegerField(
        min_value=1, required=False, help_text="At most LLM_MAX_TOKENS (4096 unless configured)."
    )
    stop = serializers.JSONField(required=False, help_text="A string or up to 4 strings.")
    n = serializers.IntegerField(
        min_value=1, max_value=1, required=False, help_text="Only 1: a credit buys one answer."
    )
    stream = serializers.BooleanField(required=False, default=False)
    stream_options = StreamOptionsSerializer(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The document names the models offered when it is made (LLM_MODELS).
        self.fields["model"] = serializers.ChoiceField(
            choices=offered_models(), help_text="One of GET /v1/models."
        )


class ChatMessageSerializer(serializers.Serializer):
    role = serializers.CharField()
    content = serializers.CharField(allow_blank=True)


class ChatChoiceSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    message = ChatMessageSerializer()
    finish_reason = serializers.CharField()


class UsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()


class ChatCompletionSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    created = serializers.IntegerField()
    model = serializers.CharField()
    choices = ChatChoiceSerializer(many=True)
    usage = UsageSerializer()


class ModelSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    created = serializers.IntegerField()
    owned_by = serializers.CharField()


class ModelListSerializer(serializers.Serializer):
    object = serializers.CharField()
    data = ModelSerializer(many=True)
