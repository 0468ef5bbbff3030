from django.contrib import admin

from security.admin_audit import AuditedModelAdmin
from tenants.models import Tenant


@admin.register(Tenant)
class TenantAdmin(AuditedModelAdmin):
    list_display = ("name", "slug", "domain", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug", "domain")
    prepopulated_fields = {"slug": ("name",)}
