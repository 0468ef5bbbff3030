from celery import shared_task
from django.conf import settings

from events import relay


@shared_task(ignore_result=True)
def relay_events() -> int:
    """After each commit that wrote events, and on beat every EVENTS_RELAY_INTERVAL_SECONDS
    (what a lost kick or a broker outage left behind)."""
    return relay.relay_pending()


@shared_task(ignore_result=True)
def prune_events() -> int:
    """Hourly: published events older than EVENTS_RETENTION_DAYS leave the outbox."""
    return relay.prune_published(older_than_days=settings.EVENTS_RETENTION_DAYS)
