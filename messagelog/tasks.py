from celery import shared_task

from messagelog import services


@shared_task(ignore_result=True)
def flush_message_log() -> int:
    """Beat runs this every MESSAGE_FLUSH_INTERVAL_SECONDS; a full batch also asks for it."""
    return services.flush(actor=None)
