from celery import shared_task

from messagelog import services


@shared_task(ignore_result=True)
def flush_message_log() -> int:
    """Beat runs this every MESSAGE_FLUSH_INTERVAL_SECONDS; a full batch also asks for it."""
    return services.flush(actor=None)


@shared_task(ignore_result=True)
def purge_message_log() -> int:
    """Beat runs this hourly; it deletes what is older than MESSAGE_RETENTION_DAYS."""
    return services.purge_expired(actor=None).deleted
