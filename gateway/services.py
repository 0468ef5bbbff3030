"""The metered path: take credits, call the model, log the conversation, answer.

Credits are taken before the call in one conditional UPDATE and given back when
the call fails, whatever the failure, so a failed call costs nothing and no call
runs unpaid. Conversations are logged only once every call of the request has
answered, all in one place before the answer leaves: a batch that fails half-way
logs nothing, as it charges nothing, and a call that cannot be logged is refunded
and refused (503) rather than answered unlogged.

A streamed completion is paid for once its first token has arrived (a failure
before that is refunded like any other) and logged once its stream ends, however
it ends, with what was handed out (`CompletionStream`).
"""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import structlog
from django.conf import settings

from accounts.models import User
from core.errors import CommonErrorCode, ServiceError
from credits.services import Taken, consume, refund
from gateway.backends import Delta, get_backend
from gateway.prompts import Prompt
from messagelog.services import Conversation, enqueue_all

logger = structlog.get_logger(__name__)

CLIENT_DISCONNECTED = "CLIENT_DISCONNECTED"


@contextmanager
def _charged(user: User, amount: int, reason: str) -> Iterator[Taken]:
    """Take `amount` credits for the block; whatever stops the block gives them back."""
    taken = consume(user=user, amount=amount)
    try:
        yield taken
    except BaseException:  # whatever stops the answer, nothing was served
        refund(taken=taken, reason=reason, actor=None)  # the service gives it back
        raise


def _conversation(
    user: User,
    prompt: Prompt,
    ip_address: str | None,
    *,
    model: str,
    response_message: dict,
    tokens_used: int,
    started: float,
) -> Conversation:
    return Conversation(
        user_id=user.pk,
        username=user.username,
        email=user.email,
        model=model,
        request_messages=prompt.messages,
        response_message=response_message,
        research_enabled=prompt.research_enabled,
        r_type=prompt.r_type,
        tokens_used=tokens_used,
        processing_time_ms=int((time.perf_counter() - started) * 1000),
        ip_address=ip_address,
    )


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class _Answered:
    body: dict
    conversation: Conversation


def _capped(options: dict) -> dict:
    """The options sent upstream: whatever the route, one credit buys at most
    LLM_MAX_TOKENS tokens of answer (the route may ask for fewer)."""
    return {"max_tokens": settings.LLM_MAX_TOKENS, **options}


def _ask(user: User, prompt: Prompt, ip_address: str | None, options: dict) -> _Answered:
    started = time.perf_counter()
    completion = get_backend().complete(
        messages=prompt.messages, model=prompt.model, options=_capped(options)
    )
    response_message = {"role": "assistant", "content": completion.content}
    total = completion.prompt_tokens + completion.completion_tokens
    body = {
        "id": _completion_id(),
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
    conversation = _conversation(
        user,
        prompt,
        ip_address,
        model=completion.model,
        response_message=response_message,
        tokens_used=total,
        started=started,
    )
    return _Answered(body, conversation)


def _metered(
    user: User, prompts: list[Prompt], ip_address: str | None, reason: str, options: dict
) -> list[dict]:
    with _charged(user, len(prompts), reason):
        answers = [_ask(user, prompt, ip_address, options) for prompt in prompts]
        # Logged before the answer leaves, all together: a call whose entries neither
        # Redis nor the database takes is not answered (and costs nothing).
        enqueue_all([answer.conversation for answer in answers])
    return [answer.body for answer in answers]


def complete(
    *, user: User, prompt: Prompt, ip_address: str | None, options: dict | None = None
) -> dict:
    """One completion for one conversation credit."""
    return _metered(user, [prompt], ip_address, "completion failed", options or {})[0]


def complete_batch(*, user: User, prompts: list[Prompt], ip_address: str | None) -> list[dict]:
    """N prompts take N credits, all or none; a failure refunds them all."""
    return _metered(user, prompts, ip_address, "batch failed", {})


class CompletionStream:
    """One streamed completion whose first token has arrived: its credit is spent.

    Iterating yields the answer's pieces (the first ones already read). However the
    stream ends (its last piece, a backend failure, the client going away, which
    closes it) the conversation is logged once, with the answer as far as it was
    handed out and, when it did not finish, an `error` mark naming why.
    """

    def __init__(self, *, user, prompt, ip_address, started, read: list[Delta], rest):
        self.id = _completion_id()
        self.created = int(time.time())
        self.model = next((d.model for d in read if d.model), prompt.model)
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self._user, self._prompt, self._ip_address = user, prompt, ip_address
        self._started = started
        self._read, self._rest = read, rest
        self._sent: list[str] = []
        self._error: str | None = CLIENT_DISCONNECTED
        self._logged = False
        self._pieces = self._generate()

    def __iter__(self) -> Iterator[str]:
        return self._pieces

    def close(self) -> None:
        """Stop early (the client went away): log what was handed out, once."""
        self._pieces.close()
        if not self._logged:  # closed before its first piece was asked for
            self._log()

    def _generate(self) -> Iterator[str]:
        try:
            for delta in self._deltas():
                self._count(delta)
                if delta.content:
                    self._sent.append(delta.content)  # handed to the connection
                    yield delta.content
            self._error = None
        except ServiceError as error:  # the backend failed mid-stream: the credit stays spent
            self._error = str(error.code)
            raise
        except Exception:
            self._error = str(CommonErrorCode.INTERNAL_ERROR)
            raise
        finally:
            self._log()

    def _deltas(self) -> Iterator[Delta]:
        yield from self._read
        yield from self._rest

    def _count(self, delta: Delta) -> None:
        if delta.prompt_tokens is not None:
            self.prompt_tokens = delta.prompt_tokens
        if delta.completion_tokens is not None:
            self.completion_tokens = delta.completion_tokens

    @property
    def content(self) -> str:
        return "".join(self._sent)

    def _log(self) -> None:
        self._logged = True
        response_message = {"role": "assistant", "content": self.content}
        if self._error is not None:
            response_message["error"] = self._error
        conversation = _conversation(
            self._user,
            self._prompt,
            self._ip_address,
            model=self.model,
            response_message=response_message,
            tokens_used=self.prompt_tokens + self.completion_tokens,
            started=self._started,
        )
        try:
            enqueue_all([conversation])
        except ServiceError:
            # The answer has left; its entry reached neither Redis nor the database.
            logger.error("streamed_conversation_unlogged", user_id=self._user.pk)


def complete_streamed(
    *, user: User, prompt: Prompt, ip_address: str | None, options: dict
) -> CompletionStream:
    """One streamed completion for one conversation credit.

    The backend is read up to its first token (or its end) before anything is
    answered: a failure until then refunds the credit and raises, so the caller
    answers an error status. From the first token on the credit is spent.
    """
    with _charged(user, 1, "completion failed"):
        started = time.perf_counter()
        deltas = get_backend().stream(
            messages=prompt.messages, model=prompt.model, options=_capped(options)
        )
        read: list[Delta] = []
        for delta in deltas:
            read.append(delta)
            if delta.content:
                break
    return CompletionStream(
        user=user, prompt=prompt, ip_address=ip_address, started=started, read=read, rest=deltas
    )
