from django.contrib import admin

from security.admin_audit import AuditedModelAdmin
from tenants.models import Tenant
from tenants.services import tenant_activity_applied


@admin.register(Tenant)
class TenantAdmin(AuditedModelAdmin):
    list_display = ("name", "slug", "domain", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug", "domain")
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            tenant_activity_applied(tenant=obj, actor=request.user)
