from rest_framework import serializers

from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import EndpointWithSecret

# Advice shown with a new secret, not a secret.
SECRET_NOTE = "The secret is shown only now; store it to verify X-Webhook-Signature. It cannot be shown again (rotate it to get a new one)."  # noqa: E501, S105


class WebhookEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "tenant_id",
            "url",
            "description",
            "event_types",
            "secret_hint",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    event_types = serializers.ListField(child=serializers.CharField(max_length=40), max_length=50)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    tenant_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Platform admins only: the tenant (empty: every tenant's events).",
    )


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, required=False)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=50, required=False
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    endpoint_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint_id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "updated_at",
            "payload",
        ]
        read_only_fields = fields


def with_secret_body(made: EndpointWithSecret) -> dict:
    return {
        **WebhookEndpointSerializer(made.endpoint).data,
        "secret": made.secret,
        "note": SECRET_NOTE,
    }
