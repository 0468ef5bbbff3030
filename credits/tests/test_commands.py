"""`manage.py reset_credits`."""

import io
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command

from credits.models import CreditAccount, CreditResetRun
from credits.services import (
    daily_reset,
)
from credits.tests.helpers import drained_accounts


def test_the_command_refuses_a_day_after_today_and_resets_nothing(db):
    accounts = drained_accounts(2)
    tomorrow = date.today() + timedelta(days=1)

    with pytest.raises(CommandError, match="after today"):
        call_command("reset_credits", "--day", tomorrow.isoformat(), stdout=io.StringIO())

    assert not CreditResetRun.objects.exists()
    assert set(CreditAccount.objects.values_list("conversation_limit", flat=True)) == {0}
    assert daily_reset(actor=None) == len(accounts)  # today's reset still runs
