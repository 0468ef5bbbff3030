"""Python client of the user-management service.

from ai_marketplace.users import UserClient

client = UserClient(api_key="pe-...")  # a tenant admin's key with management scopes
user = client.create_user(email="dev@example.com", password="...", role="developer")
"""

from ai_marketplace.users.client import UserClient, expiry_for_api
from ai_marketplace.users.errors import (
    APIError,
    AuthenticationError,
    Conflict,
    ConnectionFailed,
    CreditsExhausted,
    KeyNotAccepted,
    Locked,
    MfaRequired,
    NotFound,
    PermissionDenied,
    RateLimited,
    ScopeMissing,
    ServerError,
    ServiceUnavailable,
    UnsupportedOperation,
    UserClientError,
    ValidationError,
)
from ai_marketplace.users.models import (
    APIKey,
    Billing,
    Credits,
    IssuedAPIKey,
    Message,
    Plan,
    PlanChange,
    Role,
    TokenPair,
    User,
)

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "APIKey",
    "AuthenticationError",
    "Billing",
    "Conflict",
    "ConnectionFailed",
    "Credits",
    "CreditsExhausted",
    "IssuedAPIKey",
    "KeyNotAccepted",
    "Locked",
    "Message",
    "MfaRequired",
    "NotFound",
    "PermissionDenied",
    "Plan",
    "PlanChange",
    "RateLimited",
    "Role",
    "ScopeMissing",
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
