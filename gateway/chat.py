"""Reading an OpenAI chat completion body (`POST /v1/chat/completions`), checked field
by field like `gateway.prompts`, into the same Prompt the metered path takes.

What the service cannot honour is refused rather than ignored: `n` other than 1 (one
credit buys one answer), tools, and `max_tokens` above LLM_MAX_TOKENS. Fields OpenAI
defines that do not change what is paid for (`presence_penalty`, `user`, …)
are accepted and not forwarded, so that any OpenAI client's body is taken.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.errors import NotFound, ValidationFailed
from gateway.backends import offered_models
from gateway.errors import GatewayErrorCode
from gateway.prompts import DEFAULT_LEVEL, MAX_CONTENT, MAX_MESSAGES, MAX_MODEL, Prompt

ROLES = ("system", "developer", "user", "assistant", "tool")
MAX_STOP = 4
MAX_STOP_LENGTH = 256

CONTENT_RULE = (
    'a string, or a list of text parts ({"type": "text", "text": "…"}); '
    "null only for an assistant message"
)


@dataclass(frozen=True)
class ChatRequest:
    prompt: Prompt
    options: dict[str, Any]  # what is forwarded to the backend
    stream: bool
    include_usage: bool  # a last chunk with the counts (`stream_options.include_usage`)


class ModelNotFound(NotFound):
    code = GatewayErrorCode.MODEL_NOT_FOUND
    default_message = "The model does not exist or is not offered here; GET /v1/models lists them."


def _content(role: str, value: Any) -> str | None:
    if value is None and role == "assistant":
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and value:
        parts = []
        for part in value:
            if not isinstance(part, dict) or part.get("type") != "text":
                return None
            if not isinstance(part.get("text"), str):
                return None
            parts.append(part["text"])
        text = "".join(parts)
    else:
        return None
    if len(text) > MAX_CONTENT or "\x00" in text:
        return None
    return text


def _messages(value: Any, errors: dict[str, str]) -> list[dict[str, str]]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_MESSAGES:
        errors["messages"] = f"a list of 1 to {MAX_MESSAGES} messages."
        return []
    messages = []
    for index, item in enumerate(value):
        role = item.get("role") if isinstance(item, dict) else None
        if role not in ROLES:
            errors[f"messages[{index}].role"] = f"one of {', '.join(ROLES)}."
            continue
        content = _content(role, item.get("content"))
        if content is None:
            errors[f"messages[{index}].content"] = (
                f"{CONTENT_RULE}, of at most {MAX_CONTENT} characters, without NUL characters."
            )
            continue
        message = {"role": role, "content": content}
        tool_call_id = item.get("tool_call_id")
        if role == "tool" and isinstance(tool_call_id, str) and len(tool_call_id) <= MAX_MODEL:
            message["tool_call_id"] = tool_call_id
        messages.append(message)
    return messages


def _number(data: dict, name: str, low: float, high: float, errors: dict[str, str]):
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        errors[name] = f"a number from {low} to {high}."
        return None
    return value


def _max_tokens(data: dict, errors: dict[str, str]) -> int:
    cap = settings.LLM_MAX_TOKENS
    for name in ("max_tokens", "max_completion_tokens"):
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= cap:
            errors[name] = f"an integer from 1 to {cap} (LLM_MAX_TOKENS)."
            return cap
        return value
    return cap


def _stop(data: dict, errors: dict[str, str]):
    value = data.get("stop")
    if value is None:
        return None
    stops = [value] if isinstance(value, str) else value
    if (
        not isinstance(stops, list)
        or not 1 <= len(stops) <= MAX_STOP
        or not all(isinstance(s, str) and 0 < len(s) <= MAX_STOP_LENGTH for s in stops)
        or any("\x00" in s for s in stops)
    ):
        errors["stop"] = f"a string or a list of 1 to {MAX_STOP} non-empty strings."
        return None
    return value


def _flag(data: dict, name: str, errors: dict[str, str]) -> bool:
    value = data.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        errors[name] = "must be true or false."
        return False
    return value


def chat_request_from(data: Any) -> ChatRequest:
    """The body of one chat completion, or 400 naming every bad field (404 for a model
    the service does not offer)."""
    if not isinstance(data, dict):
        raise ValidationFailed(errors=["body: must be a JSON object."])
    errors: dict[str, str] = {}
    model = data.get("model")
    if not isinstance(model, str) or not model.strip() or len(model) > MAX_MODEL:
        errors["model"] = f"a model id of at most {MAX_MODEL} characters (GET /v1/models)."
    messages = _messages(data.get("messages"), errors)
    options: dict[str, Any] = {"max_tokens": _max_tokens(data, errors)}
    for name, low, high in (("temperature", 0, 2), ("top_p", 0, 1)):
        value = _number(data, name, low, high, errors)
        if value is not None:
            options[name] = value
    stop = _stop(data, errors)
    if stop is not None:
        options["stop"] = stop
    n = data.get("n", 1)
    if n is not None and (isinstance(n, bool) or n != 1):
        errors["n"] = "only 1: one credit buys one answer."
    for name in ("tools", "functions"):
        if data.get(name):
            errors[name] = "tool calls are not offered by this service."
    stream = _flag(data, "stream", errors)
    stream_options = data.get("stream_options")
    include_usage = False
    if stream_options is not None:
        if not stream or not isinstance(stream_options, dict):
            errors["stream_options"] = "an object, only with stream: true."
        else:
            usage_errors: dict[str, str] = {}
            include_usage = _flag(stream_options, "include_usage", usage_errors)
            if usage_errors:
                errors["stream_options.include_usage"] = usage_errors["include_usage"]
    if errors:
        raise ValidationFailed(errors=[f"{name}: {problem}" for name, problem in errors.items()])
    if model.strip() not in offered_models():
        raise ModelNotFound()
    prompt = Prompt(
        messages=messages,
        model=model.strip(),
        level=DEFAULT_LEVEL,
        r_type="",
        research_enabled=False,
    )
    return ChatRequest(prompt=prompt, options=options, stream=stream, include_usage=include_usage)
