"""The Django admin page of OAuth applications (registered by django-oauth-toolkit
through APPLICATION_ADMIN_CLASS): the tenant shown and filtered, every change one
audited transaction."""

from oauth2_provider.admin import ApplicationAdmin

from security.admin_audit import AuditedModelAdmin


class TenantApplicationAdmin(AuditedModelAdmin, ApplicationAdmin):
    list_display = ("pk", "name", "tenant", "client_type", "authorization_grant_type", "created")
    list_filter = ("client_type", "authorization_grant_type", "skip_authorization")
    list_select_related = ("tenant",)
    search_fields = ("name", "client_id")
    raw_id_fields = ("user", "tenant")
