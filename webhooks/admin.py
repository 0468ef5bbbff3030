"""Webhooks in the Django admin: endpoints seen (never their secret) and deliveries
seen and replayed. Endpoints are made through the API, where the secret is shown
once to the tenant admin who made them; replay goes through the replay service
(its permission check and audit row)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from security.admin_audit import AllOrNothingModelAdmin
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import delivery_replay


def _no_secret_lookup(lookup: str) -> bool:
    # `?secret_encrypted__startswith=` would read the sealed secret out a character
    # at a time; `?endpoint__secret_encrypted…` too.
    return "secret_encrypted" not in lookup.split("__")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AllOrNothingModelAdmin):
    list_display = ("url", "tenant", "event_types", "secret_hint", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description", "tenant__name")
    list_select_related = ("tenant",)
    ordering = ("-created_at",)
    fields = (*list_display, "description", "created_by", "updated_at")
    readonly_fields = fields

    def lookup_allowed(self, lookup: str, value, request=None) -> bool:
        return _no_secret_lookup(lookup) and super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AllOrNothingModelAdmin):
    list_display = (
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "updated_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("=event_id", "endpoint__url")
    list_select_related = ("endpoint",)
    ordering = ("-updated_at",)
    fields = (*list_display, "event_id", "tenant", "delivered_at", "created_at", "payload")
    readonly_fields = fields
    actions = ["replay_deliveries"]
    show_full_result_count = False

    def lookup_allowed(self, lookup: str, value, request=None) -> bool:
        return _no_secret_lookup(lookup) and super().lookup_allowed(lookup, value, request)

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_webhookdelivery")

    @admin.action(description="Replay selected deliveries", permissions=["replay"])
    def replay_deliveries(self, request: HttpRequest, queryset: QuerySet) -> None:
        deliveries = list(queryset.select_related("endpoint"))
        for delivery in deliveries:
            delivery_replay(actor=request.user, delivery=delivery)
        self.message_user(
            request, f"{len(deliveries)} deliver(y/ies) queued again.", messages.SUCCESS
        )
