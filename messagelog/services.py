"""The conversation log. `enqueue` writes the row directly for now; the message-log
pipeline (queue + batched flush) replaces its body without changing its callers."""

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from messagelog.models import MessageLog


@dataclass(frozen=True)
class Conversation:
    user_id: int
    username: str
    email: str
    model: str
    request_messages: list[dict[str, Any]]
    response_message: dict[str, Any]
    research_enabled: bool
    r_type: str
    tokens_used: int
    processing_time_ms: int
    ip_address: str | None
    extra: dict[str, Any] = field(default_factory=dict)


def enqueue(conversation: Conversation) -> None:
    if not settings.MESSAGE_LOGGING_ENABLED:
        return
    MessageLog.objects.create(
        user_id=conversation.user_id,
        username=conversation.username,
        email=conversation.email,
        model=conversation.model,
        messages={
            "request": conversation.request_messages,
            "response": conversation.response_message,
        },
        research_enabled=conversation.research_enabled,
        r_type=conversation.r_type,
        tokens_used=conversation.tokens_used,
        processing_time_ms=conversation.processing_time_ms,
        ip_address=conversation.ip_address,
    )
