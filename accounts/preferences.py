"""The declared preferences of a user: the schema, the platform defaults, and the
merge that gives a user's effective preferences.

effective = PLATFORM_DEFAULTS ← the tenant's `default_preferences` ← the user's own
choices. Only choices are stored (`User.preferences`, a partial document): a default
that changes later reaches everyone who never chose otherwise. Every write is checked
against one JSON Schema (`preferences_schema`), so an unknown key or a wrong type is
refused with the path of each bad value; a stored value that no longer fits (a
language taken off the list, say) is left out of the effective document, never an error.
"""

import copy
import functools
import json
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator, FormatChecker

from accounts.errors import AccountErrorCode
from core.errors import ValidationFailed

THEMES = ("light", "dark", "system")
DIGESTS = ("off", "daily", "weekly")
PROFILE_VISIBILITIES = ("public", "tenant", "private")
# The services a user may connect; each keeps the same small settings object.
INTEGRATIONS = ("slack", "github", "google_drive")
INTEGRATION_LABEL_MAX = 100

PLATFORM_DEFAULTS: dict[str, Any] = {
    "theme": "system",
    "language": "en",
    "timezone": "UTC",
    # `credits_low` and `account_lockout`: the emails sent when the conversation limit
    # falls below the tenant's threshold and when failed logins lock the account
    # (both also need `email`).
    "notifications": {
        "email": True,
        "slack": False,
        "in_app": True,
        "digest": "weekly",
        "credits_low": True,
        "account_lockout": True,
    },
    "privacy": {"profile_visibility": "tenant", "show_email": True},
    "integrations": {name: {"enabled": False, "label": ""} for name in INTEGRATIONS},
}

TIMEZONE_FORMAT = "iana-timezone"
# The largest document that fits the schema is a few kilobytes as JSON; a larger one
# is refused whole, before the schema names each of its (possibly countless) bad keys.
PREFERENCES_MAX_CHARACTERS = 16_384


@functools.cache
def _iana_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


_format_checker = FormatChecker(formats=())


@_format_checker.checks(TIMEZONE_FORMAT)
def _is_iana_timezone(value: object) -> bool:
    # Names from the zone database only: never a path handed to ZoneInfo.
    return not isinstance(value, str) or value in _iana_names()


def _object(properties: dict) -> dict:
    """An object of these keys only, each optional (a document of choices is partial)."""
    return {"type": "object", "properties": properties, "additionalProperties": False}


def preferences_schema(languages: tuple[str, ...] | None = None) -> dict:
    """The JSON Schema every preferences document (a user's choices, a tenant's
    defaults, a bulk change) must fit; languages come from PREFERENCE_LANGUAGES."""
    languages = languages or tuple(settings.PREFERENCE_LANGUAGES)
    integration = _object(
        {
            "enabled": {"type": "boolean"},
            "label": {"type": "string", "maxLength": INTEGRATION_LABEL_MAX},
        }
    )
    return _object(
        {
            "theme": {"enum": list(THEMES)},
            "language": {"enum": list(languages)},
            "timezone": {"type": "string", "maxLength": 64, "format": TIMEZONE_FORMAT},
            "notifications": _object(
                {
                    "email": {"type": "boolean"},
                    "slack": {"type": "boolean"},
                    "in_app": {"type": "boolean"},
                    "digest": {"enum": list(DIGESTS)},
                    "credits_low": {"type": "boolean"},
                    "account_lockout": {"type": "boolean"},
                }
            ),
            "privacy": _object(
                {
                    "profile_visibility": {"enum": list(PROFILE_VISIBILITIES)},
                    "show_email": {"type": "boolean"},
                }
            ),
            "integrations": _object({name: integration for name in INTEGRATIONS}),
        }
    )


@functools.cache
def _validator_for(languages: tuple[str, ...]) -> Draft202012Validator:
    return Draft202012Validator(preferences_schema(languages), format_checker=_format_checker)


def _validator() -> Draft202012Validator:
    return _validator_for(tuple(settings.PREFERENCE_LANGUAGES))


def _path(parts) -> str:
    return ".".join(str(part) for part in parts)


def _describe(error) -> str:
    validator = error.validator
    if validator == "enum":
        return "must be one of " + ", ".join(json.dumps(v) for v in error.validator_value) + "."
    if validator == "type":
        kind = {"boolean": "true or false", "object": "an object", "string": "a string"}
        return f"must be {kind.get(error.validator_value, error.validator_value)}."
    if validator == "format":
        return "must be an IANA time zone name, such as Europe/Paris."
    if validator == "maxLength":
        return f"must be at most {error.validator_value} characters."
    return "is not allowed here."


def preferences_problems(document: object) -> list[tuple[str, str]]:
    """(path, message) for every bad value of `document`, sorted by path: an unknown
    key is named by its own path, a wrong value by the path of the value."""
    if len(json.dumps(document, ensure_ascii=False, default=str)) > PREFERENCES_MAX_CHARACTERS:
        return [("", f"must be at most {PREFERENCES_MAX_CHARACTERS} characters as JSON.")]
    problems = []
    for error in _validator().iter_errors(document):
        base = list(error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = error.schema.get("properties", {})
            for key in error.instance:
                if key not in allowed:
                    problems.append((_path([*base, key]), "is not a known preference."))
        else:
            problems.append((_path(base), _describe(error)))
    return sorted(set(problems))


def check_preferences(document: object, *, prefix: str = "") -> None:
    """400 PREFERENCES_INVALID naming each bad path (`prefix` puts them where the
    document sits in the request body, e.g. `preferences.`)."""
    problems = preferences_problems(document)
    if not problems:
        return
    paths = [
        f"{prefix}{path}" if path else prefix.rstrip(".") or "(document)" for path, _ in problems
    ]
    raise ValidationFailed(
        "Some preferences are unknown or have the wrong type.",
        errors=[f"{path}: {message}" for path, (_, message) in zip(paths, problems, strict=True)],
        code=AccountErrorCode.PREFERENCES_INVALID,
        extra={"fields": paths},
    )


def validate_preferences(document: object) -> None:
    """The model field's validator, for forms (the admin site): same rules, each path named."""
    problems = preferences_problems(document)
    if problems:
        raise ValidationError(
            [f"{path or '(document)'}: {message}" for path, message in problems],
            code=AccountErrorCode.PREFERENCES_INVALID.lower(),
        )


def preferences_fitting(document: object) -> dict:
    """The part of `document` that fits the schema: every bad value and unknown key
    left out (for reads of what was stored before a rule changed)."""
    if not isinstance(document, dict):
        return {}
    fitting = copy.deepcopy(document)
    for _ in range(4):  # each pass removes the outermost bad values; the schema is 3 deep
        problems = preferences_problems(fitting)
        if not problems:
            return fitting
        for path, _message in problems:
            parent, keys = fitting, path.split(".")
            for key in keys[:-1]:
                parent = parent.get(key) if isinstance(parent, dict) else None
            if isinstance(parent, dict):
                parent.pop(keys[-1], None)
    return {}


def deep_merge(base: dict, changes: dict) -> dict:
    """`base` with `changes` laid over it, object by object (a new dict; neither changes)."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _nulls_as_defaults(patch: object, defaults: object) -> object:
    """The patch with each `null` (a removal) replaced by the default it restores, so
    the patch itself can be checked: an unknown key stays unknown."""
    if not isinstance(patch, dict):
        return patch
    defaults = defaults if isinstance(defaults, dict) else {}
    return {
        key: (
            defaults.get(key, 0) if value is None else _nulls_as_defaults(value, defaults.get(key))
        )
        for key, value in patch.items()
    }


def check_preferences_patch(patch: object, *, prefix: str = "") -> None:
    """A merge patch is checked as a document whose `null`s are removals."""
    check_preferences(_nulls_as_defaults(patch, PLATFORM_DEFAULTS), prefix=prefix)


def merge_patch(document: dict, patch: dict) -> dict:
    """JSON Merge Patch (RFC 7386) of a stored document: objects merge key by key and
    `null` removes a choice (the default applies again); empty objects are dropped."""
    merged = copy.deepcopy(document)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            inner = merge_patch(merged[key] if isinstance(merged.get(key), dict) else {}, value)
            if inner:
                merged[key] = inner
            else:
                merged.pop(key, None)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def tenant_default_preferences(tenant) -> dict:
    """The tenant's `default_preferences` setting, the part that fits the schema."""
    if tenant is None:
        return {}
    stored = (tenant.settings or {}).get("default_preferences") or {}
    return preferences_fitting(stored) if stored else {}


def effective_preferences(user) -> dict:
    """What applies to `user`: platform defaults ← tenant defaults ← own choices."""
    tenant = user.tenant if user.tenant_id else None
    own = preferences_fitting(user.preferences) if user.preferences else {}
    return deep_merge(deep_merge(PLATFORM_DEFAULTS, tenant_default_preferences(tenant)), own)
