from rest_framework import serializers

from apikeys.models import APIKey
from apikeys.services import IssuedKey

CLEAR_KEY_NOTE = (
    "The full key is shown only when it is created or regenerated; it cannot be shown again."
)
NO_PRIMARY_KEY_NOTE = (
    "This account has no live primary key (it was revoked or has expired); "
    "POST /v1/users/api-key/regenerate makes a new one."
)


class APIKeySerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="masked", read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = APIKey
        fields = [
            "id",
            "name",
            "key",
            "scopes",
            "is_primary",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "active",
            "user_id",
        ]
        read_only_fields = fields

    def get_active(self, key: APIKey) -> bool:
        return key.is_usable()


class APIKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    expires_in = serializers.CharField(max_length=40, required=False, allow_blank=True)


def issued_body(issued: IssuedKey) -> dict:
    """A key just issued: its row, and the clear key this once."""
    return {**APIKeySerializer(issued.key).data, "api_key": issued.clear, "note": CLEAR_KEY_NOTE}
