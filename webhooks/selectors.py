"""Whose webhooks a caller reaches: the `manage:tenant` scope of `users_scope`.

Platform admins reach every endpoint; a tenant admin those of their tenant; anyone
else none (another tenant's endpoint or delivery is simply not in the queryset: 404).
"""

from django.db.models import QuerySet

from accounts.authz.roles import Permission
from accounts.selectors import users_scope
from core.ids import id_from_text
from webhooks.models import WebhookDelivery, WebhookEndpoint


def webhook_scope(actor) -> tuple[str, int | None]:
    return users_scope(actor, Permission.MANAGE_TENANT)


def endpoints_visible_to(actor) -> QuerySet[WebhookEndpoint]:
    kind, tenant_id = webhook_scope(actor)
    if kind == "all":
        return WebhookEndpoint.objects.order_by("id")
    if kind == "tenant":
        return WebhookEndpoint.objects.filter(tenant_id=tenant_id).order_by("id")
    return WebhookEndpoint.objects.none()


def deliveries_visible_to(actor) -> QuerySet[WebhookDelivery]:
    kind, tenant_id = webhook_scope(actor)
    deliveries = WebhookDelivery.objects.select_related("endpoint")
    if kind == "all":
        return deliveries.order_by("-created_at")
    if kind == "tenant":
        return deliveries.filter(tenant_id=tenant_id).order_by("-created_at")
    return WebhookDelivery.objects.none()


def deliveries_of(*, endpoint: WebhookEndpoint, status: str | None = None):
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at")
    return deliveries.filter(status=status) if status else deliveries


def deliveries_failed_recently(*, limit: int = 10) -> list[WebhookDelivery]:
    """The latest deliveries that gave up, for the staff dashboard."""
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED)
        .select_related("endpoint")
        .order_by("-updated_at")[:limit]
    )


def deliveries_failed_count() -> int:
    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count()


def endpoints_listening(*, tenant_ids: set) -> list[WebhookEndpoint]:
    """Active endpoints that may hear events of these tenants: theirs and the platform's."""
    tenants = {t for t in tenant_ids if t is not None}
    return list(
        WebhookEndpoint.objects.filter(is_active=True, tenant_id__in=tenants)
        | WebhookEndpoint.objects.filter(is_active=True, tenant__isnull=True)
    )


def deliveries_listed(*, actor, status: str | None, endpoint_id: str | None):
    """The caller's deliveries, narrowed by the list's query parameters (unknown
    values narrow to nothing rather than erroring)."""
    deliveries = deliveries_visible_to(actor)
    if status:
        deliveries = deliveries.filter(status=status)
    if endpoint_id:
        endpoint_pk = id_from_text(endpoint_id)
        deliveries = (
            deliveries.none() if endpoint_pk is None else deliveries.filter(endpoint_id=endpoint_pk)
        )
    return deliveries
