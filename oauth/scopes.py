"""OAuth scopes: the OpenID Connect ones and the permission strings a token may carry.

A permission scope is one of our role permission strings; a token acts with its
user's role permissions as they are now, narrowed to its scopes exactly as an API
key is (`accounts.authz.keys`), so it never carries more than the role holds, and
never what only a login may do (`write:self`, `delete:users`, `manage:tenant`).
"""

from oauth2_provider.scopes import BaseScopes

from accounts.authz.keys import KEY_MANAGEMENT_SCOPES
from accounts.authz.roles import Permission

OIDC_SCOPES = {
    "openid": "Sign you in (your account id)",
    "profile": "Your name and username",
    "email": "Your email address",
}
# A machine client (client credentials) may ask for this one only.
INTROSPECTION_SCOPE = "introspection"

PERMISSION_SCOPES = {
    str(permission): permission.label
    for permission in Permission
    if permission in {Permission.READ_SELF, Permission.READ_MODELS, Permission.WRITE_MODELS}
    or permission in KEY_MANAGEMENT_SCOPES
}
ALL_SCOPES = {
    **OIDC_SCOPES,
    **PERMISSION_SCOPES,
    INTROSPECTION_SCOPE: "Check whether tokens of this organisation are live",
}


def permission_scopes(scopes) -> frozenset[str]:
    return frozenset(scope for scope in scopes if scope in PERMISSION_SCOPES)


class PermissionScopes(BaseScopes):
    def get_all_scopes(self):
        return ALL_SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        if application is not None and application.authorization_grant_type == (
            application.GRANT_CLIENT_CREDENTIALS
        ):
            return [INTROSPECTION_SCOPE]
        return [scope for scope in ALL_SCOPES if scope != INTROSPECTION_SCOPE]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        if application is not None and application.authorization_grant_type == (
            application.GRANT_CLIENT_CREDENTIALS
        ):
            return [INTROSPECTION_SCOPE]
        return ["openid"]
