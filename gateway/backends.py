"""LLM backends: a deterministic echo (default, no network) and any OpenAI-compatible
HTTP upstream (LLM_BACKEND_URL). Backend failures become 502, timeouts 504."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import httpx
from django.conf import settings

from core.errors import ServiceError
from gateway.errors import GatewayErrorCode


class BackendFailed(ServiceError):
    status_code = 502
    code = GatewayErrorCode.LLM_BACKEND_ERROR
    default_message = "The model backend failed; no credit was used."


class BackendTimedOut(ServiceError):
    status_code = 504
    code = GatewayErrorCode.LLM_BACKEND_TIMEOUT
    default_message = "The model backend did not answer in time; no credit was used."


@dataclass(frozen=True)
class Completion:
    content: str
    model: str
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Delta:
    """One piece of a streamed answer: text, and the counts when the backend reports them
    (an OpenAI upstream sends them in its last chunk under `stream_options.include_usage`)."""

    content: str = ""
    model: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Backend(Protocol):
    def complete(self, *, messages: list[dict], model: str, options: dict) -> Completion: ...

    def stream(self, *, messages: list[dict], model: str, options: dict) -> Iterator[Delta]:
        """The answer piece by piece; a failure at any point raises BackendFailed or
        BackendTimedOut."""
        ...


def _words(text: str) -> int:
    return len(text.split())


def estimated_tokens(text: str) -> int:
    """The count when a backend reports none: one token per whitespace-separated word,
    an underestimate for most tokenizers, documented as such."""
    return _words(text)


class EchoBackend:
    """Answers with the last user message: deterministic, free, offline."""

    def complete(self, *, messages: list[dict], model: str, options: dict) -> Completion:
        last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        content = f"Echo: {last}"
        prompt_tokens = sum(_words(str(message["content"])) for message in messages)
        return Completion(content, model, prompt_tokens, _words(content))

    def stream(self, *, messages: list[dict], model: str, options: dict) -> Iterator[Delta]:
        """The same answer, one word (with its following space) per piece."""
        answer = self.complete(messages=messages, model=model, options=options)
        words = answer.content.split(" ")
        for index, word in enumerate(words):
            yield Delta(content=word if index == len(words) - 1 else f"{word} ", model=model)
        yield Delta(
            model=model,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
        )


class OpenAICompatibleBackend:
    """POST {LLM_BACKEND_URL}/chat/completions with a bearer key and a timeout."""

    def __init__(self, base_url: str, api_key: str, timeout: float) -> None:
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
            timeout=timeout,
        )

    def complete(self, *, messages: list[dict], model: str, options: dict) -> Completion:
        try:
            response = self.client.post(
                "/chat/completions", json={"model": model, "messages": messages, **options}
            )
            response.raise_for_status()
            return _completion_from(response.json(), model)
        except httpx.TimeoutException as exc:
            raise BackendTimedOut() from exc
        except _FAILURES as exc:
            raise BackendFailed() from exc

    def stream(self, *, messages: list[dict], model: str, options: dict) -> Iterator[Delta]:
        """The upstream's server-sent events, asking for the counts in the last chunk."""
        body = {
            "model": model,
            "messages": messages,
            **options,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        try:
            with self.client.stream("POST", "/chat/completions", json=body) as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    delta = _delta_from(line, model)
                    if delta is _END:
                        return
                    if delta is not None:
                        yield delta
            raise ValueError("the stream ended without [DONE]")
        except httpx.TimeoutException as exc:
            raise BackendTimedOut() from exc
        except _FAILURES as exc:
            raise BackendFailed() from exc


_FAILURES = (
    httpx.HTTPError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    OverflowError,  # a count of Infinity or 1e999
    RecursionError,  # JSON nested deeper than the parser goes
)

_END = Delta()


def _delta_from(line: str, model: str) -> Delta | None:
    """One server-sent event line: a Delta, _END at `[DONE]`, None for what carries no data
    (blank lines, comments, event names). An `error` object raises."""
    if not line.startswith("data:"):
        return None
    data = line[len("data:") :].strip()
    if data == "[DONE]":
        return _END
    chunk = json.loads(data)
    if not isinstance(chunk, dict) or "error" in chunk:
        raise ValueError("the upstream reported an error mid-stream")
    usage = chunk.get("usage") or {}
    choices = chunk.get("choices") or []
    content = ""
    if choices:
        content = choices[0]["delta"].get("content") or ""
    if not isinstance(content, str) or not isinstance(usage, dict):
        raise TypeError("the chunk is not OpenAI-shaped")
    answered_model = str(chunk.get("model") or model)
    _encodable(content)
    _encodable(answered_model)
    return Delta(
        content=content,
        model=answered_model,
        prompt_tokens=_count(usage["prompt_tokens"]) if "prompt_tokens" in usage else None,
        completion_tokens=(
            _count(usage["completion_tokens"]) if "completion_tokens" in usage else None
        ),
    )


def _completion_from(body: dict, model: str) -> Completion:
    """An OpenAI-shaped answer; anything else raises one of the errors caught above."""
    message = body["choices"][0]["message"]
    usage = body.get("usage") or {}
    if not isinstance(message, dict) or not isinstance(usage, dict):
        raise TypeError("the answer is not OpenAI-shaped")
    content = message.get("content") or ""
    if not isinstance(content, str):
        raise TypeError("the answer's content is not text")
    answered_model = str(body.get("model") or model)
    # A lone surrogate (a "\\udxxx" escape) decodes but cannot be written as UTF-8:
    # the answer could not be sent, so it is a failed call, refunded like any other.
    _encodable(content)
    _encodable(answered_model)
    return Completion(
        content=content,
        model=answered_model,
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
    )


def _encodable(text: str) -> None:
    text.encode()  # UnicodeEncodeError is a ValueError


# Token counts are logged in 32-bit columns; their sum must fit too.
_MAX_TOKENS = (2**31 - 1) // 2


def _count(value: object) -> int:
    return min(max(0, int(value or 0)), _MAX_TOKENS)


@lru_cache(maxsize=4)
def _backend(url: str, api_key: str, timeout: float) -> Backend:
    if not url:
        return EchoBackend()
    return OpenAICompatibleBackend(url, api_key, timeout)


def offered_models() -> list[str]:
    """What GET /v1/models lists and /v1/chat/completions accepts: LLM_MODELS, else the
    default model alone."""
    return list(settings.LLM_MODELS) or [settings.LLM_DEFAULT_MODEL]


def get_backend() -> Backend:
    return _backend(settings.LLM_BACKEND_URL, settings.LLM_API_KEY, settings.LLM_TIMEOUT_SECONDS)
