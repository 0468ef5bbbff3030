"""Sending deliveries: one claimed attempt at a time, signed, with back-off on failure.

A worker claims a delivery by moving its next attempt past the request's timeout (a
lease), so two workers never send it at once; a worker that dies mid-attempt leaves
it to be tried again when the lease ends.
"""

import json
from datetime import timedelta

import structlog
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from webhooks import secret_box, signing, transport
from webhooks.models import WebhookDelivery

logger = structlog.get_logger(__name__)

_MAX_BACKOFF_SECONDS = 24 * 3600
_ACTIVE = (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING)
_FINISHED = (WebhookDelivery.Status.SUCCEEDED, WebhookDelivery.Status.FAILED)


def backoff_seconds(attempts: int) -> int:
    """The wait after the `attempts`-th failure: the base, doubled each time, capped."""
    return min(
        settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), _MAX_BACKOFF_SECONDS
    )


def _claim(delivery_id) -> bool:
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3 + 30)
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id, status__in=_ACTIVE)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
        .update(next_attempt_at=lease)
    )


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


def _outcome_of(delivery: WebhookDelivery) -> transport.Outcome:
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return transport.Outcome(None, "the endpoint is disabled")
    try:
        secret = secret_box.secret_open(endpoint.secret_encrypted)
    except secret_box.SecretUnreadable:
        return transport.Outcome(None, "the secret cannot be read with this SECRET_KEY; rotate it")
    body = body_of(delivery)
    timestamp = int(timezone.now().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "user-management-webhooks/1",
        signing.SIGNATURE_HEADER: signing.signature_header(secret, timestamp, body),
        signing.ID_HEADER: str(delivery.event_id),
        signing.EVENT_HEADER: delivery.event_type,
    }
    return transport.post(endpoint.url, body=body, headers=headers)


def delivery_attempt(delivery_id) -> WebhookDelivery | None:
    """Send one due delivery once and record the outcome; None when it is not due
    (done, given up, or another worker holds it)."""
    if not _claim(delivery_id):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    outcome = _outcome_of(delivery)
    attempts = delivery.attempts + 1
    now = timezone.now()
    if outcome.succeeded:
        status, next_at, delivered_at = WebhookDelivery.Status.SUCCEEDED, None, now
    elif attempts >= settings.WEBHOOK_MAX_ATTEMPTS or not delivery.endpoint.is_active:
        status, next_at, delivered_at = WebhookDelivery.Status.FAILED, None, None
    else:
        status = WebhookDelivery.Status.RETRYING
        next_at, delivered_at = now + timedelta(seconds=backoff_seconds(attempts)), None
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=status,
        attempts=F("attempts") + 1,
        last_status_code=outcome.status_code,
        last_error=outcome.error[:500],
        next_attempt_at=next_at,
        delivered_at=delivered_at,
        updated_at=now,
    )
    logger.info(
        "webhook_delivery_attempted",
        delivery_id=str(delivery_id),
        endpoint_id=delivery.endpoint_id,
        status=status,
        status_code=outcome.status_code,
    )
    delivery.refresh_from_db()
    return delivery


def deliveries_due_attempt(*, limit: int = 100) -> int:
    """Attempt the deliveries whose next try has come (beat, every 30 seconds)."""
    due = list(
        WebhookDelivery.objects.filter(status__in=_ACTIVE, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        delivery_attempt(pk)
    return len(due)


def deliveries_prune(*, older_than_days: int, batch_size: int = 5000) -> int:
    """Delete finished deliveries (succeeded or failed) last touched before the
    retention, in bounded batches; those still being tried stay."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted = 0
    while True:
        ids = list(
            WebhookDelivery.objects.filter(status__in=_FINISHED, updated_at__lt=cutoff).values_list(
                "pk", flat=True
            )[:batch_size]
        )
        if not ids:
            return deleted
        deleted += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]
