"""What the message log tests share: a conversation to log."""

from messagelog import services


def conversation(user_id: int = 1, text: str = "Hello", **overrides) -> services.Conversation:
    fields = {
        "user_id": user_id,
        "username": f"user{user_id}",
        "email": f"user{user_id}@example.com",
        "model": "echo-1",
        "request_messages": [{"role": "user", "content": text}],
        "response_message": {"role": "assistant", "content": f"Echo: {text}"},
        "research_enabled": False,
        "r_type": "bpe",
        "tokens_used": 4,
        "processing_time_ms": 2,
        "ip_address": "192.0.2.7",
    }
    return services.Conversation(**{**fields, **overrides})
