from celery import shared_task
from django.conf import settings
from django.utils import timezone

from credits import services


@shared_task
def reset_daily_credits() -> int:
    """Beat runs this every hour; it resets at DAILY_USAGE_RESET_HOUR, once per day."""
    if not settings.AUTO_CREDIT_RESET_ENABLED:
        return 0
    if timezone.now().hour < settings.DAILY_USAGE_RESET_HOUR:
        return 0
    return services.daily_reset(actor=None)  # a system job
