from core.errors import ErrorCode


class APIKeyErrorCode(ErrorCode):
    """Refusals of API keys: presenting one, and issuing or rotating one."""

    INVALID_SCOPE = "INVALID_SCOPE", 400, "a scope that is not read, write or a permission string"
    INVALID_API_KEY = "INVALID_API_KEY", 401, "API key wrong, revoked or expired"
    API_KEY_NOT_ACCEPTED = (
        "API_KEY_NOT_ACCEPTED",
        401,
        "a key sent to an endpoint that needs a session token",
    )
    API_KEY_EXPIRED = "API_KEY_EXPIRED", 409, "an expired key cannot be rotated"
    API_KEY_SCOPE_MISSING = (
        "API_KEY_SCOPE_MISSING",
        403,
        "the key's scopes do not name the permission the operation needs",
    )
    API_KEY_STAFF_ACCOUNT = (
        "API_KEY_STAFF_ACCOUNT",
        403,
        "management scopes on a key of a platform admin or support staff account",
    )
    SCOPE_NOT_HELD = (
        "SCOPE_NOT_HELD",
        403,
        "a key given a management scope its owner or creator does not hold",
    )
