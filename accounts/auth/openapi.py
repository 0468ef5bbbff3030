"""OpenAPI description of the session-bound JWT authentication."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class SessionJWTScheme(SimpleJWTScheme):
    target_class = "accounts.auth.authentication.SessionJWTAuthentication"
    name = "jwtAuth"
