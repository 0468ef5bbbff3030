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
