from rest_framework import serializers

from accounts.api.serializers import password_field
from tenants.models import Tenant
from tenants.selectors import tenant_settings


class TenantSerializer(serializers.ModelSerializer):
    settings = serializers.SerializerMethodField()

    class Meta:
        model = Tenant
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "domain",
            "is_active",
            "settings",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_settings(self, tenant: Tenant) -> dict:
        return tenant_settings(tenant)


class TenantCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=100, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    domain = serializers.CharField(max_length=253, required=False, allow_blank=True)
    settings = serializers.DictField(required=False)
    admin_email = serializers.EmailField()
    admin_username = serializers.CharField(min_length=3, max_length=50)
    admin_password = password_field()
    admin_first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    admin_last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class TenantUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    domain = serializers.CharField(max_length=253, required=False, allow_blank=True)
    settings = serializers.DictField(required=False)
