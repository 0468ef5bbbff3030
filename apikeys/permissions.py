"""What a request made with an API key may do: no more than the key's scopes allow."""

from rest_framework.permissions import BasePermission

from apikeys.services import KeyIdentity


def key_allows(permission: str) -> type[BasePermission]:
    """A DRF permission class: with a key, `permission` must be within its scopes.

    Requests with a login session pass; the owner's own role is checked apart.
    """

    class KeyAllows(BasePermission):
        message = "This API key's scopes do not allow this."

        def has_permission(self, request, view) -> bool:
            identity = request.auth
            return not isinstance(identity, KeyIdentity) or identity.allows(permission)

    KeyAllows.__name__ = KeyAllows.__qualname__ = f"KeyAllows[{permission}]"
    return KeyAllows
