"""Token values with a prefix of their own, so each authentication class knows its
credential from the header alone (JWTs, `pe-` API keys, `oat-` OAuth tokens)."""

from oauthlib.common import generate_token

ACCESS_TOKEN_PREFIX = "oat-"  # noqa: S105 (a prefix)
REFRESH_TOKEN_PREFIX = "ort-"  # noqa: S105


def access_token_value(request) -> str:
    return ACCESS_TOKEN_PREFIX + generate_token(40)


def refresh_token_value(request) -> str:
    return REFRESH_TOKEN_PREFIX + generate_token(40)
