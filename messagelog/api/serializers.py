from rest_framework import serializers

from messagelog.models import MessageLog


class MessageLogSerializer(serializers.ModelSerializer):
    """A conversation as its owner reads it back."""

    class Meta:
        model = MessageLog
        fields = [
            "id",
            "model",
            "messages",
            "research_enabled",
            "r_type",
            "tokens_used",
            "processing_time_ms",
            "timestamp",
        ]
        read_only_fields = fields
