from drf_spectacular.extensions import OpenApiAuthenticationExtension


class OpenAIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "gateway.api.openai_views.KeyOnlyAuthentication"
    name = "apiKeyBearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (pe-…) as OpenAI's clients send it; `X-API-Key` works "
            "too. Session tokens are refused here.",
        }
