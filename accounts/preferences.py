"""The limits on a user's `preferences`, the free-form JSON object a client keeps.

Checked on the stored (merged) value wherever it is written: the profile
endpoints and the admin site's form.
"""

import json

from django.core.exceptions import ValidationError

from accounts.errors import AccountErrorCode
from core.errors import CommonErrorCode, ErrorCode, ValidationFailed

MAX_DEPTH = 5  # the object itself is level 1
MAX_BYTES = 16 * 1024  # serialised as compact UTF-8 JSON
MAX_KEYS = 100  # at the top level

TOO_DEEP = AccountErrorCode.PREFERENCES_TOO_DEEP
TOO_LARGE = AccountErrorCode.PREFERENCES_TOO_LARGE


def _depth_exceeds(value: object, limit: int) -> bool:
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return False


def preferences_problem(value: object) -> tuple[ErrorCode, str] | None:
    """(code, message) when `value` may not be stored as preferences, else None."""
    if not isinstance(value, dict):
        return CommonErrorCode.VALIDATION_ERROR, "Preferences must be a JSON object."
    if _depth_exceeds(value, MAX_DEPTH):
        return TOO_DEEP, f"Preferences may be nested at most {MAX_DEPTH} levels deep."
    if len(value) > MAX_KEYS:
        return TOO_LARGE, f"Preferences may have at most {MAX_KEYS} keys."
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_BYTES:
        return TOO_LARGE, f"Preferences may take at most {MAX_BYTES} bytes as JSON."
    return None


def check_preferences(value: object) -> None:
    """400 with PREFERENCES_TOO_DEEP or PREFERENCES_TOO_LARGE, for the API."""
    problem = preferences_problem(value)
    if problem is not None:
        code, message = problem
        raise ValidationFailed(message, errors=[f"preferences: {message}"], code=code)


def validate_preferences(value: object) -> None:
    """The model field's validator, for forms (the admin site)."""
    problem = preferences_problem(value)
    if problem is not None:
        code, message = problem
        raise ValidationError(message, code=code.lower())
