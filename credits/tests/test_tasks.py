"""The hourly beat task that runs the daily reset."""

import io

from django.core.management import call_command

from credits.models import CreditAccount
from credits.tasks import reset_daily_credits
from credits.tests.helpers import drained_accounts


def test_reset_command_and_task(db, settings):
    drained_accounts(3)
    settings.DAILY_USAGE_RESET_HOUR = 0

    call_command("reset_credits", stdout=io.StringIO())
    assert reset_daily_credits.delay().get() == 0  # already done today

    assert set(CreditAccount.objects.values_list("conversation_limit", flat=True)) == {10}


def test_auto_reset_can_be_turned_off(db, settings):
    drained_accounts(2)
    settings.AUTO_CREDIT_RESET_ENABLED = False

    assert reset_daily_credits.delay().get() == 0
    assert set(CreditAccount.objects.values_list("conversation_limit", flat=True)) == {0}
