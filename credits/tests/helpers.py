"""What the credit tests share: a metered request, and accounts with nothing left."""

from datetime import date, timedelta

from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import UserFactory
from credits.models import CreditAccount
from credits.services import (
    account_for,
)

COMPLETIONS = "/v1/prompt/completions"


PROMPT = {"level": "medium", "messages": [{"role": "user", "content": "Hello"}], "r_type": "bpe"}


def drained_accounts(count: int) -> list[CreditAccount]:
    accounts = [account_for(UserFactory()) for _ in range(count)]
    CreditAccount.objects.update(
        conversation_limit=0, main_credits=0, last_reset_on=date.today() - timedelta(days=1)
    )
    return accounts


def auth_of(user) -> dict:
    """Request headers carrying a fresh login session of `user`."""
    pair = session_start(user=user, client=ClientInfo("127.0.0.1", "tests"))
    return {"HTTP_AUTHORIZATION": f"Bearer {pair.access}"}
