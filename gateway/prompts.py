"""Reading a metered request body into prompts, checked field by field.

Plain checks rather than a DRF serializer: the metered endpoints are the
service's hottest path, and building and running a serializer costs more than
authenticating the key and taking the credit together. `gateway.api.serializers` declares
the same body for the OpenAPI document.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.errors import ValidationFailed

ROLES = ("assistant", "system", "user")
MAX_MESSAGES = 100
MAX_CONTENT = 100_000
MAX_LEVEL = 32
MAX_R_TYPE = 32
MAX_MODEL = 100
DEFAULT_LEVEL = "medium"

MESSAGES_RULE = (
    f"a list of 1 to {MAX_MESSAGES} messages, each with a role ({', '.join(ROLES)}) "
    f"and a string content of at most {MAX_CONTENT} characters, without NUL characters"
)


@dataclass(frozen=True)
class Prompt:
    messages: list[dict[str, str]]
    model: str
    level: str
    r_type: str
    research_enabled: bool


def _messages(value: Any) -> list[dict[str, str]] | None:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_MESSAGES:
        return None
    messages = []
    for item in value:
        if not isinstance(item, dict):
            return None
        role, content = item.get("role"), item.get("content")
        if (
            role not in ROLES
            or not isinstance(content, str)
            or len(content) > MAX_CONTENT
            or "\x00" in content
        ):
            return None
        messages.append({"role": role, "content": content})
    return messages


Errors = dict[str, str]  # field name ("" for the body itself) -> what is wrong


def _text(data: dict, name: str, errors: Errors, *, limit: int, default: str, blank: bool):
    value = data.get(name, default)
    if not isinstance(value, str):
        errors[name] = "must be a string."
    elif len(value) > limit:
        errors[name] = f"at most {limit} characters."
    elif "\x00" in value:
        errors[name] = "may not contain NUL characters."
    elif not blank and not value.strip():
        errors[name] = "may not be blank."
    else:
        return value.strip()
    return default


def _checked(data: Any, errors: Errors) -> Prompt | None:
    """The prompt in `data`, or None with every problem written into `errors`."""
    if not isinstance(data, dict):
        errors[""] = "must be a JSON object."
        return None
    messages = _messages(data.get("messages"))
    if messages is None:
        errors["messages"] = f"{MESSAGES_RULE}."
    level = _text(data, "level", errors, limit=MAX_LEVEL, default=DEFAULT_LEVEL, blank=False)
    r_type = _text(data, "r_type", errors, limit=MAX_R_TYPE, default="", blank=True)
    model = _text(data, "model", errors, limit=MAX_MODEL, default="", blank=True)
    if model and settings.LLM_MODELS and model not in settings.LLM_MODELS:
        errors["model"] = "not offered here (LLM_MODELS; GET /v1/models lists them)."
    research_enabled = data.get("research_enabled", False)
    if not isinstance(research_enabled, bool):
        errors["research_enabled"] = "must be true or false."
    if errors:
        return None
    return Prompt(
        messages=messages,
        model=model or settings.LLM_DEFAULT_MODEL,
        level=level,
        r_type=r_type,
        research_enabled=research_enabled,
    )


def prompt_from(data: Any) -> Prompt:
    """One completion body (level, messages, r_type, optional model), or 400."""
    errors: Errors = {}
    prompt = _checked(data, errors)
    if prompt is None:
        raise ValidationFailed(errors=_listed(errors))
    return prompt


def _listed(errors: Errors, where: str = "") -> list[str]:
    """`messages: …` for a body, `prompts[2].messages: …` inside a batch."""
    return [
        f"{'.'.join(part for part in (where, name) if part) or 'body'}: {problem}"
        for name, problem in errors.items()
    ]


def prompts_from(data: Any) -> list[Prompt]:
    """A batch body `{"prompts": [...]}`: every prompt valid, or 400 naming each bad one."""
    items = data.get("prompts") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ValidationFailed(errors=["prompts: a non-empty list of completion bodies."])
    if len(items) > settings.BATCH_MAX_PROMPTS:
        raise ValidationFailed(
            errors=[f"prompts: at most {settings.BATCH_MAX_PROMPTS} prompts per batch."]
        )
    prompts, errors = [], []
    for index, item in enumerate(items):
        item_errors: Errors = {}
        prompts.append(_checked(item, item_errors))
        errors.extend(_listed(item_errors, f"prompts[{index}]"))
    if errors:
        raise ValidationFailed(errors=errors)
    return prompts
