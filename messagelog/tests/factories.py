import factory
from django.utils import timezone

from messagelog.models import MessageLog


class MessageLogFactory(factory.django.DjangoModelFactory):
    """A logged conversation; `user_id` is a plain id (the log outlives its users)."""

    class Meta:
        model = MessageLog

    user_id = factory.Sequence(lambda n: n + 1)
    username = factory.LazyAttribute(lambda row: f"user{row.user_id}")
    email = factory.LazyAttribute(lambda row: f"user{row.user_id}@example.com")
    model = "echo-1"
    messages = factory.LazyFunction(
        lambda: {
            "request": [{"role": "user", "content": "Hello"}],
            "response": {"role": "assistant", "content": "Echo: Hello"},
        }
    )
    r_type = "bpe"
    tokens_used = 4
    processing_time_ms = 2
    timestamp = factory.LazyFunction(timezone.now)
