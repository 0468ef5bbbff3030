"""Python client of the user-management service.

from ai_marketplace.users import UserClient

client = UserClient.login(email="admin@example.com", password="...")
user = client.create_user(email="dev@example.com", password="...", role="developer")
"""

from ai_marketplace.users.client import UserClient, expiry_for_api
from ai_marketplace.users.errors import (
    APIError,
    AuthenticationError,
    Conflict,
    ConnectionFailed,
    CreditsExhausted,
    Locked,
    MfaRequired,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    UnsupportedOperation,
    UserClientError,
    ValidationError,
)
from ai_marketplace.users.models import (
    APIKey,
    Credits,
    IssuedAPIKey,
    Message,
    Role,
    TokenPair,
    User,
)

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "APIKey",
    "AuthenticationError",
    "Conflict",
    "ConnectionFailed",
    "Credits",
    "CreditsExhausted",
    "IssuedAPIKey",
    "Locked",
    "Message",
    "MfaRequired",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "Role",
    "ServerError",
    "ServiceUnavailable",
    "TokenPair",
    "UnsupportedOperation",
    "User",
    "UserClient",
    "UserClientError",
    "ValidationError",
    "expiry_for_api",
]
