from django.contrib import admin

from events.models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    """Read only: events are facts; the relay alone stamps them published."""

    list_display = ("type", "tenant_id", "occurred_at", "published_at", "attempts")
    list_filter = ("type",)
    search_fields = ("=id",)
    ordering = ("-occurred_at",)
    readonly_fields = [field.name for field in OutboxEvent._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
