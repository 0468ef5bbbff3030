"""The admin panel's shapes: the security records, their list filters, and the
user update that also takes the credits and limits objects."""

from django.utils import timezone
from rest_framework import serializers

from accounts.api.serializers import AdminUserUpdateSerializer
from credits.api.serializers import CreditChangeSerializer
from security.models import AuditLog, IPAllowlistEntry, IPBlock, SecurityEvent, Severity

# The fields of an admin-panel user update that change the balance, not the profile.
CREDIT_FIELDS = ("credits", "limits", "reason")


class AdminPanelUserUpdateSerializer(AdminUserUpdateSerializer, CreditChangeSerializer):
    """The staff-editable profile fields plus the `credits` and `limits` objects."""


class SecurityEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecurityEvent
        fields = [
            "id",
            "occurred_at",
            "kind",
            "severity",
            "user_id",
            "username",
            "ip_address",
            "user_agent",
            "path",
            "details",
            "request_id",
        ]
        read_only_fields = fields


class SecurityEventFilterSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    kind = serializers.ChoiceField(choices=SecurityEvent.Kind.choices, required=False)
    user_id = serializers.IntegerField(required=False, min_value=1)
    username = serializers.CharField(required=False, max_length=254)
    ip = serializers.IPAddressField(required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class AuditLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = [
            "id",
            "occurred_at",
            "actor_id",
            "actor_kind",
            "actor_label",
            "action",
            "target_type",
            "target_id",
            "tenant_id",
            "changes",
            "ip_address",
            "user_agent",
            "request_id",
        ]
        read_only_fields = fields


class AuditLogFilterSerializer(serializers.Serializer):
    actor_id = serializers.IntegerField(required=False, min_value=1)
    action = serializers.CharField(required=False, max_length=64)
    target_type = serializers.CharField(required=False, max_length=64)
    target_id = serializers.CharField(required=False, max_length=64)
    tenant_id = serializers.IntegerField(required=False, min_value=1)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class IPAllowlistEntrySerializer(serializers.ModelSerializer):
    ip_address = serializers.CharField(source="network", max_length=64)

    class Meta:
        model = IPAllowlistEntry
        fields = ["id", "ip_address", "description", "expires_at", "created_at", "created_by_id"]
        read_only_fields = ["id", "created_at", "created_by_id"]


class IPBlockSerializer(serializers.ModelSerializer):
    active = serializers.SerializerMethodField()

    class Meta:
        model = IPBlock
        fields = [
            "id",
            "ip_address",
            "reason",
            "created_at",
            "blocked_until",
            "lifted_at",
            "active",
        ]
        read_only_fields = fields

    def get_active(self, block: IPBlock) -> bool:
        return block.lifted_at is None and block.blocked_until > timezone.now()


class LockoutSerializer(serializers.Serializer):
    identifier = serializers.CharField(
        help_text="The account's username, or the unknown identifier as typed; unlock takes it."
    )
    key = serializers.CharField(help_text="The lockout counter: USER:<id> for an account.")
    user_id = serializers.IntegerField(allow_null=True)
    email = serializers.EmailField(allow_null=True)
    failures = serializers.IntegerField()
    locked_until = serializers.DateTimeField()
