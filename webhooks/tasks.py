from celery import shared_task
from django.conf import settings

from webhooks import delivery


@shared_task(ignore_result=True)
def deliver_webhook(delivery_id: str) -> None:
    """The first attempt, right after the delivery is made (or replayed)."""
    delivery.delivery_attempt(delivery_id)


@shared_task(ignore_result=True)
def deliver_due_webhooks() -> int:
    """Beat, every 30 seconds: the retries whose back-off has passed."""
    return delivery.deliveries_due_attempt()


@shared_task(ignore_result=True)
def prune_webhook_deliveries() -> int:
    """Hourly: finished deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS go."""
    return delivery.deliveries_prune(older_than_days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
