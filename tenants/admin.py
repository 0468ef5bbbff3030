from django import forms
from django.contrib import admin

from core.errors import ServiceError
from security.admin_audit import AuditedModelAdmin
from tenants.models import Tenant
from tenants.services import (
    tenant_activity_applied,
    tenant_settings_applied,
    tenant_settings_cleaned,
)


class TenantForm(forms.ModelForm):
    """The settings are checked as the API checks them (default preferences included)."""

    class Meta:
        model = Tenant
        fields = ("name", "slug", "description", "domain", "is_active", "settings")

    def clean_settings(self) -> dict:
        try:
            return tenant_settings_cleaned(self.cleaned_data.get("settings") or {})
        except ServiceError as error:
            raise forms.ValidationError(error.errors) from error


@admin.register(Tenant)
class TenantAdmin(AuditedModelAdmin):
    form = TenantForm
    list_display = ("name", "slug", "domain", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug", "domain")
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            tenant_activity_applied(tenant=obj, actor=request.user)
        if change and "settings" in form.changed_data:
            tenant_settings_applied(tenant=obj)
