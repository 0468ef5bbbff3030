"""The metered path: take credits, call the model, log the conversation, answer.

Credits are taken before the call in one conditional UPDATE and given back when
the backend fails, so a failed call costs nothing and no call runs unpaid.
"""

import time
import uuid

from accounts.models import User
from credits.services import consume, refund
from gateway.backends import BackendFailed, BackendTimedOut, Completion, get_backend
from gateway.prompts import Prompt
from messagelog.services import Conversation, enqueue


def _run(user: User, prompt: Prompt, ip_address: str | None) -> dict:
    started = time.perf_counter()
    completion: Completion = get_backend().complete(
        messages=prompt.messages, model=prompt.model, options={}
    )
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    response_message = {"role": "assistant", "content": completion.content}
    total = completion.prompt_tokens + completion.completion_tokens
    enqueue(
        Conversation(
            user_id=user.pk,
            username=user.username,
            email=user.email,
            model=completion.model,
            request_messages=prompt.messages,
            response_message=response_message,
            research_enabled=prompt.research_enabled,
            r_type=prompt.r_type,
            tokens_used=total,
            processing_time_ms=elapsed_ms,
            ip_address=ip_address,
        )
    )
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": completion.model,
        "choices": [{"index": 0, "message": response_message, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "total_tokens": total,
        },
    }


def complete(*, user: User, prompt: Prompt, ip_address: str | None) -> dict:
    consume(user=user, amount=1)
    try:
        return _run(user, prompt, ip_address)
    except (BackendFailed, BackendTimedOut):
        refund(user=user, amount=1, reason="backend failure")
        raise


def complete_batch(*, user: User, prompts: list[Prompt], ip_address: str | None) -> list[dict]:
    """N prompts take N credits, all or none; a backend failure refunds them all."""
    consume(user=user, amount=len(prompts))
    try:
        return [_run(user, prompt, ip_address) for prompt in prompts]
    except (BackendFailed, BackendTimedOut):
        refund(user=user, amount=len(prompts), reason="backend failure in batch")
        raise
