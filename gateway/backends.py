"""LLM backends: a deterministic echo (default, no network) and any OpenAI-compatible
HTTP upstream (LLM_BACKEND_URL). Backend failures become 502, timeouts 504."""

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


class Backend(Protocol):
    def complete(self, *, messages: list[dict], model: str, options: dict) -> Completion: ...


def _words(text: str) -> int:
    return len(text.split())


class EchoBackend:
    """Answers with the last user message: deterministic, free, offline."""

    def complete(self, *, messages: list[dict], model: str, options: dict) -> Completion:
        last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        content = f"Echo: {last}"
        prompt_tokens = sum(_words(str(message["content"])) for message in messages)
        return Completion(content, model, prompt_tokens, _words(content))


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
        except (
            httpx.HTTPError,
            ValueError,
            KeyError,
            IndexError,
            TypeError,
            OverflowError,  # a count of Infinity or 1e999
            RecursionError,  # JSON nested deeper than the parser goes
        ) as exc:
            raise BackendFailed() from exc


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


def get_backend() -> Backend:
    return _backend(settings.LLM_BACKEND_URL, settings.LLM_API_KEY, settings.LLM_TIMEOUT_SECONDS)
