from drf_spectacular.extensions import OpenApiAuthenticationExtension


class OAuthTokenScheme(OpenApiAuthenticationExtension):
    target_class = "oauth.authentication.OAuthTokenAuthentication"
    name = "oauthAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "openIdConnect",
            "openIdConnectUrl": "/.well-known/openid-configuration",
            "description": (
                "An OAuth access token (oat-…) from this service's provider, in "
                "`Authorization: Bearer`; it opens what an API key with its scopes opens."
            ),
        }
