"""What the gateway tests share: the metered routes, a prompt, the log and the balance."""

from credits.models import CreditAccount
from messagelog.models import MessageLog
from messagelog.services import flush

COMPLETIONS = "/v1/prompt/completions"


BATCH = "/v1/batch/process"


PROMPT = {"level": "medium", "messages": [{"role": "user", "content": "Hello"}], "r_type": "bpe"}


def logged():
    """The conversation log as a reader sees it once the queue is flushed."""
    flush(actor=None)
    return MessageLog.objects


def limit_of(user) -> int:
    return CreditAccount.objects.get(user=user).conversation_limit
