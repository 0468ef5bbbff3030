from core.errors import ErrorCode


class OAuthErrorCode(ErrorCode):
    """Refusals of OAuth access tokens on our API."""

    OAUTH_TOKEN_INVALID = (
        "OAUTH_TOKEN_INVALID",
        401,
        "an OAuth access token wrong, expired, revoked, or its login session ended",
    )
    OAUTH_TOKEN_NOT_ACCEPTED = (
        "OAUTH_TOKEN_NOT_ACCEPTED",
        401,
        "an OAuth access token sent to an operation that needs a session token",
    )
    OAUTH_SCOPE_MISSING = (
        "OAUTH_SCOPE_MISSING",
        403,
        "the OAuth token's scopes do not name the permission the operation needs",
    )
