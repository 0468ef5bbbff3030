"""The metered path: take credits, call the model, log the conversation, answer.

Credits are taken before the call in one conditional UPDATE and given back when
the call fails, whatever the failure, so a failed call costs nothing and no call
runs unpaid. Conversations are logged only once every call of the request has
answered, all in one place before the answer leaves: a batch that fails half-way
logs nothing, as it charges nothing, and a call that cannot be logged is refunded
and refused (503) rather than answered unlogged.
"""

import time
import uuid
from dataclasses import dataclass

from accounts.models import User
from credits.services import consume, refund
from gateway.backends import get_backend
from gateway.prompts import Prompt
from messagelog.services import Conversation, enqueue_all


@dataclass(frozen=True)
class _Answered:
    body: dict
    conversation: Conversation


def _ask(user: User, prompt: Prompt, ip_address: str | None) -> _Answered:
    started = time.perf_counter()
    completion = get_backend().complete(messages=prompt.messages, model=prompt.model, options={})
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    response_message = {"role": "assistant", "content": completion.content}
    total = completion.prompt_tokens + completion.completion_tokens
    body = {
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
    conversation = Conversation(
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
    return _Answered(body, conversation)


def _metered(user: User, prompts: list[Prompt], ip_address: str | None, reason: str) -> list[dict]:
    taken = consume(user=user, amount=len(prompts))
    try:
        answers = [_ask(user, prompt, ip_address) for prompt in prompts]
        # Logged before the answer leaves, all together: a call whose entries neither
        # Redis nor the database takes is not answered (and costs nothing).
        enqueue_all([answer.conversation for answer in answers])
    except BaseException:  # whatever stops the answer, nothing was served
        refund(taken=taken, reason=reason, actor=None)  # the service gives it back
        raise
    return [answer.body for answer in answers]


def complete(*, user: User, prompt: Prompt, ip_address: str | None) -> dict:
    """One completion for one conversation credit."""
    return _metered(user, [prompt], ip_address, "completion failed")[0]


def complete_batch(*, user: User, prompts: list[Prompt], ip_address: str | None) -> list[dict]:
    """N prompts take N credits, all or none; a failure refunds them all."""
    return _metered(user, prompts, ip_address, "batch failed")
