from django.contrib import admin

from tenants.models import Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "domain", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug", "domain")
    prepopulated_fields = {"slug": ("name",)}
