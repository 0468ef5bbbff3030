"""What the database itself guarantees about balances."""

import pytest
from django.db import IntegrityError, transaction

from accounts.tests.factories import UserFactory
from credits.models import CreditAccount
from credits.services import (
    account_for,
)


def test_the_database_refuses_a_negative_balance(db):
    account = account_for(UserFactory())

    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(pk=account.pk).update(conversation_limit=-1)
