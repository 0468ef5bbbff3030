"""The domain events: their names and the JSON schema of each one's `data`.

Every published message is an envelope (`ENVELOPE_SCHEMA`) whose `data` follows the
schema of its `type`. Schemas only grow: a consumer may rely on every field listed
as required; new optional fields can appear at any time.
"""

from django.db import models


class EventType(models.TextChoices):
    USER_REGISTERED = "user.registered"
    USER_UPDATED = "user.updated"
    USER_SUSPENDED = "user.suspended"
    USER_DELETED = "user.deleted"
    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    ACCOUNT_LOCKED = "account.locked"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    CREDITS_LOW = "credits.low"
    CREDITS_EXHAUSTED = "credits.exhausted"
    CREDITS_RESET = "credits.reset"
    ROLE_ASSIGNED = "role.assigned"
    TENANT_CREATED = "tenant.created"


_ID = {"type": "integer"}
_NULLABLE_ID = {"type": ["integer", "null"]}
_TEXT = {"type": "string"}


def _object(required: dict, optional: dict | None = None) -> dict:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": True,
    }


_USER = {"user_id": _ID, "tenant_id": _NULLABLE_ID}

DATA_SCHEMAS: dict[str, dict] = {
    EventType.USER_REGISTERED: _object(
        {**_USER, "username": _TEXT, "status": _TEXT},
        {"source": {"enum": ["self", "admin", "import"]}},
    ),
    EventType.USER_UPDATED: _object(
        {**_USER, "fields": {"type": "array", "items": _TEXT}},
    ),
    EventType.USER_SUSPENDED: _object(
        {**_USER, "status": _TEXT, "previous_status": _TEXT}, {"reason": _TEXT}
    ),
    EventType.USER_DELETED: _object({**_USER, "erased": {"type": "boolean"}}),
    EventType.LOGIN_SUCCEEDED: _object(
        {**_USER, "session_id": _TEXT},
        {"surface": _TEXT, "mfa": {"type": "boolean"}},
    ),
    EventType.LOGIN_FAILED: _object(
        {"user_id": _NULLABLE_ID, "tenant_id": _NULLABLE_ID},
        {"purpose": _TEXT},
    ),
    EventType.ACCOUNT_LOCKED: _object({**_USER, "failures": _ID}),
    EventType.API_KEY_CREATED: _object(
        {
            **_USER,
            "key_id": _ID,
            "prefix": _TEXT,
            "name": _TEXT,
            "scopes": {"type": "array", "items": _TEXT},
        },
    ),
    EventType.API_KEY_REVOKED: _object({**_USER, "key_id": _ID, "prefix": _TEXT}),
    EventType.CREDITS_LOW: _object(
        {**_USER, "conversation_limit": _ID, "threshold": _ID},
    ),
    EventType.CREDITS_EXHAUSTED: _object({**_USER, "conversation_limit": _ID}),
    EventType.CREDITS_RESET: _object(
        {"tenant_id": {"type": "null"}, "day": {"type": "string", "format": "date"}},
        {"accounts_reset": _ID},
    ),
    EventType.ROLE_ASSIGNED: _object(
        {**_USER, "role": _TEXT, "previous_role": {"type": ["string", "null"]}},
    ),
    EventType.TENANT_CREATED: _object(
        {"tenant_id": _ID, "slug": _TEXT, "name": _TEXT, "admin_user_id": _ID},
    ),
}

ENVELOPE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "type", "occurred_at", "tenant_id", "data"],
    "properties": {
        "id": {"type": "string", "format": "uuid", "description": "unique; de-duplicate on it"},
        "type": {"enum": [choice.value for choice in EventType]},
        "occurred_at": {"type": "string", "format": "date-time"},
        "tenant_id": _NULLABLE_ID,
        "data": {"type": "object"},
    },
}


def schema_of(event_type: str) -> dict:
    """The full schema of one event type: the envelope with its `data`."""
    return {
        **ENVELOPE_SCHEMA,
        "title": event_type,
        "properties": {
            **ENVELOPE_SCHEMA["properties"],
            "type": {"const": event_type},
            "data": DATA_SCHEMAS[event_type],
        },
    }
