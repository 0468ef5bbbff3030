"""The metered request bodies as the OpenAPI document shows them.

These serializers only describe; `gateway.prompts` does the checking, with the
same limits, which `gateway/tests/test_prompts.py` holds the two to.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gateway import prompts


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
