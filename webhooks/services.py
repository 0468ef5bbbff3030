"""Webhook endpoints (made, changed, removed by tenant admins) and their deliveries.

A published event becomes one delivery row per listening endpoint (the relay calls
`deliveries_fan_out` in the transaction that marks it published); each delivery is
POSTed once at once, then again with exponential back-off until it succeeds or has
used WEBHOOK_MAX_ATTEMPTS (`webhooks.delivery`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError

from accounts.models import User
from core.errors import CommonErrorCode, Conflict, Forbidden, ValidationFailed
from events.catalog import EventType
from security.models import AuditAction
from security.services.audit import audit_record
from tenants.models import Tenant
from webhooks import secret_box, tasks, transport
from webhooks.errors import WebhookErrorCode
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.selectors import endpoints_listening, webhook_scope

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class EndpointWithSecret:
    """An endpoint and its secret in clear: the one moment the secret is shown."""

    endpoint: WebhookEndpoint
    secret: str


def _tenant_for_new_endpoint(actor: User, tenant_id: int | None) -> int | None:
    kind, own_tenant = webhook_scope(actor)
    if kind == "user":
        raise Forbidden(
            "Managing webhooks needs the manage:tenant permission.",
            code=CommonErrorCode.PERMISSION_DENIED,
        )
    # A tenant admin's endpoints are their tenant's, whatever the request names.
    if kind == "tenant":
        return own_tenant
    if tenant_id is not None and not Tenant.objects.filter(pk=tenant_id).exists():
        raise ValidationFailed("Unknown tenant.", code=CommonErrorCode.VALIDATION_ERROR)
    return tenant_id


def _event_types_cleaned(event_types: Any) -> list[str]:
    known = {choice.value for choice in EventType}
    if (
        not isinstance(event_types, list)
        or not event_types
        or not all(isinstance(t, str) and t in known for t in event_types)
    ):
        raise ValidationFailed(
            f"event_types is a non-empty list of: {', '.join(sorted(known))}.",
            code=WebhookErrorCode.WEBHOOK_UNKNOWN_EVENT,
        )
    return sorted(set(event_types))


def _url_cleaned(url: Any) -> str:
    if not isinstance(url, str) or len(url) > 2000:
        raise ValidationFailed(
            "url is an http(s) URL of at most 2000 characters.",
            code=WebhookErrorCode.WEBHOOK_URL_REFUSED,
        )
    try:
        transport.target_resolve(url)
    except transport.TargetRefused as error:
        raise ValidationFailed(
            f"This URL cannot receive webhooks: {error}.",
            code=WebhookErrorCode.WEBHOOK_URL_REFUSED,
        ) from error
    return url


def _check_room(tenant_id: int | None) -> None:
    if tenant_id is None:
        return
    # The tenant's row lock makes registrations of one tenant count one after the
    # other; two counting at once would both see room for one more.
    Tenant.objects.select_for_update().filter(pk=tenant_id).exists()
    if (
        WebhookEndpoint.objects.filter(tenant_id=tenant_id).count()
        >= settings.WEBHOOK_MAX_ENDPOINTS_PER_TENANT
    ):
        raise Conflict(
            "This tenant has as many webhook endpoints as it may.",
            code=WebhookErrorCode.WEBHOOK_LIMIT_REACHED,
        )


@transaction.atomic
def endpoint_create(
    *,
    actor: User,
    url: str,
    event_types: list[str],
    description: str = "",
    tenant_id: int | None = None,
) -> EndpointWithSecret:
    """A new endpoint with a new secret, returned in clear this once."""
    tenant_id = _tenant_for_new_endpoint(actor, tenant_id)
    _check_room(tenant_id)
    secret = secret_box.secret_new()
    endpoint = WebhookEndpoint.objects.create(
        tenant_id=tenant_id,
        url=_url_cleaned(url),
        description=description,
        event_types=_event_types_cleaned(event_types),
        secret_encrypted=secret_box.secret_seal(secret),
        secret_hint=secret_box.secret_hint(secret),
        created_by=actor,
    )
    audit_record(
        action=AuditAction.WEBHOOK_CREATE,
        actor=actor,
        target=endpoint,
        changes={"url": endpoint.url, "event_types": endpoint.event_types},
    )
    return EndpointWithSecret(endpoint, secret)


@transaction.atomic
def endpoint_update(*, actor: User, endpoint: WebhookEndpoint, data: dict) -> WebhookEndpoint:
    """Change the URL, the events, the description or whether it is active."""
    _tenant_for_new_endpoint(actor, endpoint.tenant_id)
    changes = {}
    cleaners = {
        "url": _url_cleaned,
        "event_types": _event_types_cleaned,
        "description": str,
        "is_active": bool,
    }
    for field, clean in cleaners.items():
        if field in data:
            value = clean(data[field])
            if value != getattr(endpoint, field):
                changes[field] = {"before": getattr(endpoint, field), "after": value}
                setattr(endpoint, field, value)
    if changes:
        endpoint.save()
        audit_record(
            action=AuditAction.WEBHOOK_UPDATE, actor=actor, target=endpoint, changes=changes
        )
    return endpoint


@transaction.atomic
def endpoint_delete(*, actor: User, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint and its delivery records."""
    _tenant_for_new_endpoint(actor, endpoint.tenant_id)
    audit_record(
        action=AuditAction.WEBHOOK_DELETE,
        actor=actor,
        target=endpoint,
        changes={"url": endpoint.url},
    )
    endpoint.delete()


@transaction.atomic
def endpoint_secret_rotate(*, actor: User, endpoint: WebhookEndpoint) -> EndpointWithSecret:
    """A new secret, in clear this once; deliveries from now on are signed with it."""
    _tenant_for_new_endpoint(actor, endpoint.tenant_id)
    secret = secret_box.secret_new()
    endpoint.secret_encrypted = secret_box.secret_seal(secret)
    endpoint.secret_hint = secret_box.secret_hint(secret)
    endpoint.save(update_fields=["secret_encrypted", "secret_hint", "updated_at"])
    audit_record(action=AuditAction.WEBHOOK_SECRET_ROTATE, actor=actor, target=endpoint)
    return EndpointWithSecret(endpoint, secret)


def _attempt_now(delivery_ids: list) -> None:
    # A Celery broker that is down leaves the deliveries due: beat's sweep sends them.
    try:
        for pk in delivery_ids:
            tasks.deliver_webhook.delay(str(pk))
    except (OSError, KombuError) as error:
        logger.warning("webhook_attempt_kick_failed", error=str(error)[:300])


def _attempt_on_commit(delivery_ids: list) -> None:
    if delivery_ids:
        transaction.on_commit(lambda: _attempt_now(delivery_ids))


@transaction.atomic
def delivery_replay(*, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (same event id, a fresh signature), with a fresh budget
    of attempts. The receiver's de-duplication on `X-Webhook-Id` still applies."""
    _tenant_for_new_endpoint(actor, delivery.tenant_id)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        last_error="",
        updated_at=timezone.now(),
    )
    audit_record(
        action=AuditAction.WEBHOOK_DELIVERY_REPLAY,
        actor=actor,
        target=delivery,
        changes={"event_id": str(delivery.event_id), "event_type": delivery.event_type},
    )
    _attempt_on_commit([delivery.pk])
    delivery.refresh_from_db()
    return delivery


def deliveries_fan_out(events: Sequence) -> list:
    """A delivery for each endpoint listening to each published event (the relay's
    sink, inside its transaction); an event handed over twice is delivered once."""
    if not events:
        return []
    endpoints = endpoints_listening(tenant_ids={event.tenant_id for event in events})
    now = timezone.now()
    rows = [
        WebhookDelivery(
            endpoint=endpoint,
            tenant_id=endpoint.tenant_id,
            event_id=event.pk,
            event_type=event.type,
            payload=event.envelope(),
            next_attempt_at=now,
        )
        for event in events
        for endpoint in endpoints
        if event.type in endpoint.event_types
        and (endpoint.tenant_id is None or endpoint.tenant_id == event.tenant_id)
    ]
    if not rows:
        return []
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(
        WebhookDelivery.objects.filter(
            pk__in=[row.pk for row in rows], status=WebhookDelivery.Status.PENDING
        ).values_list("pk", flat=True)
    )
    _attempt_on_commit(ids)
    return ids
