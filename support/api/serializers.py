"""The admin panel's shapes: the security records, their list filters, the user
update that also takes the credits and limits objects, admin creation, the
statistics and the conversation log records."""

from django.utils import timezone
from rest_framework import serializers

from accounts.api.serializers import (
    AdminUserUpdateSerializer,
    ProductUserSerializer,
    name_field,
    password_field,
)
from accounts.models import username_validator
from credits.api.serializers import CreditChangeSerializer
from messagelog.models import MessageLog
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


class CreateAdminSerializer(serializers.Serializer):
    """The body of `POST /v1/admin-panel/create-admin`."""

    username = serializers.CharField(min_length=3, max_length=50, validators=[username_validator])
    email = serializers.EmailField(max_length=254)
    name = name_field()
    password = password_field()
    super_admin = serializers.BooleanField(default=False)


class AdminCreatedSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    user = ProductUserSerializer()
    super_admin = serializers.BooleanField()


def _windows(name: str, *windows: str) -> serializers.Serializer:
    """A `{window: count}` object."""
    fields = {window: serializers.IntegerField() for window in windows}
    return type(name, (serializers.Serializer,), fields)()


_DAYS = ("today", "last_7_days", "last_30_days")


class _TenantCount(serializers.Serializer):
    tenant_id = serializers.IntegerField()
    name = serializers.CharField()
    users = serializers.IntegerField()


class _ModelUse(serializers.Serializer):
    model = serializers.CharField()
    conversations = serializers.IntegerField()
    tokens_used = serializers.IntegerField()


class _UserFigures(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_plan = serializers.DictField(child=serializers.IntegerField())
    by_tenant = _TenantCount(many=True, help_text="The largest tenants, most users first.")
    without_tenant = serializers.IntegerField()


class StatisticsSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    users = _UserFigures()
    signups = _windows("SignupWindows", *_DAYS)
    logins = _windows("LoginWindows", *_DAYS)
    active_sessions = serializers.IntegerField()
    conversations = _windows("ConversationWindows", *_DAYS)
    tokens_used = _windows("TokenWindows", *_DAYS)
    credits_used = _windows("CreditWindows", *_DAYS, "since_daily_reset")
    top_models = _ModelUse(many=True, help_text="Most used models of the last 30 days.")
    failed_logins = _windows("FailedLoginWindows", "today", "last_7_days")
    blocked_ips = serializers.IntegerField()


class StatisticsResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    statistics = StatisticsSerializer()


class MessageLogRecordSerializer(serializers.ModelSerializer):
    """A conversation as the admin panel reads it (the documented log structure)."""

    class Meta:
        model = MessageLog
        fields = [
            "id",
            "user_id",
            "username",
            "email",
            "model",
            "messages",
            "research_enabled",
            "r_type",
            "tokens_used",
            "processing_time_ms",
            "ip_address",
            "timestamp",
        ]
        read_only_fields = fields
