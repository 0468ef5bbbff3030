import pytest

DOCUMENTED_OPERATIONS = [
    ("/api/v1/auth/register", "post"),
    ("/api/v1/auth/login", "post"),
    ("/api/v1/auth/refresh", "post"),
    ("/api/v1/auth/logout", "post"),
    ("/api/v1/auth/change-password", "post"),
    ("/api/v1/users/me", "get"),
    ("/api/v1/users/me", "put"),
    ("/api/v1/users/me", "patch"),
    ("/api/v1/users/me/change-password", "post"),
    ("/v1/users/register", "post"),
    ("/v1/users/login", "post"),
    ("/v1/users/refresh", "post"),
    ("/v1/users/logout", "post"),
    ("/v1/users/profile", "get"),
    ("/v1/users/profile", "put"),
    ("/v1/users/password", "put"),
    ("/api/v1/auth/mfa/totp/setup", "post"),
    ("/api/v1/auth/mfa/totp/confirm", "post"),
    ("/api/v1/auth/mfa/verify", "post"),
    ("/api/v1/auth/mfa/recovery-codes", "post"),
    ("/api/v1/auth/mfa/disable", "post"),
    ("/api/v1/auth/verify-email", "post"),
    ("/api/v1/auth/verify-email/resend", "post"),
    ("/api/v1/auth/reset-password", "post"),
    ("/api/v1/auth/reset-password/confirm", "post"),
    ("/api/v1/auth/recover-account", "post"),
    ("/api/v1/auth/recover-account/confirm", "post"),
    ("/api/v1/users/me", "delete"),
    ("/api/v1/users/me/sessions", "get"),
    ("/api/v1/users/me/sessions/revoke-others", "post"),
    ("/api/v1/users/me/export", "get"),
    ("/v1/users/login/mfa", "post"),
    ("/v1/users/email", "put"),
    ("/v1/users/account", "delete"),
    ("/v1/admin-panel/security-logs", "get"),
    ("/v1/admin-panel/audit-logs", "get"),
    ("/v1/admin-panel/ip-whitelist", "post"),
    ("/v1/admin-panel/ip-blocks", "get"),
    ("/v1/admin-panel/lockouts", "get"),
    ("/api/v1/users", "get"),
    ("/api/v1/users", "post"),
    ("/api/v1/users/{id}", "patch"),
    ("/api/v1/users/{id}/status", "post"),
    ("/api/v1/users/{id}/roles", "post"),
    ("/api/v1/users/bulk", "post"),
    ("/api/v1/users/stats", "get"),
    ("/api/v1/roles", "post"),
    ("/api/v1/tenants", "post"),
    ("/api/v1/api-keys", "post"),
    ("/api/v1/api-keys/{id}/rotate", "post"),
    ("/v1/users/api-key", "get"),
    ("/v1/users/api-key/regenerate", "post"),
    ("/api/v1/users/me/credits", "get"),
    ("/api/v1/users/{user_id}/credits", "put"),
    ("/v1/prompt/completions", "post"),
    ("/v1/batch/process", "post"),
    ("/health", "get"),
    ("/api/v1/health", "get"),
    ("/api/v1/health/ready", "get"),
    ("/api/v1/health/live", "get"),
    ("/api/v1/health/detailed", "get"),
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    from core.tests.cache import clear_cache

    with django_db_blocker.unblock():
        clear_cache()
        response = APIClient().get("/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(("path", "method"), DOCUMENTED_OPERATIONS)
def test_openapi_documents_every_operation(schema, path, method):
    assert method in schema["paths"][path]


@pytest.mark.parametrize(("path", "method"), DOCUMENTED_OPERATIONS)
def test_openapi_documents_error_envelope(schema, path, method):
    responses = schema["paths"][path][method]["responses"]
    if path.startswith(("/health", "/api/v1/health")):
        return  # probes answer their own shape, 503 included
    errors = [code for code in responses if code.startswith(("4", "5"))]
    assert errors, responses
    for code in errors:
        ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorEnvelope")


def test_openapi_documents_request_bodies(schema):
    login = schema["paths"]["/api/v1/auth/login"]["post"]["requestBody"]
    ref = login["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][ref]["properties"]) >= {
        "email",
        "password",
        "tenant_id",
        "remember_me",
    }


def test_openapi_declares_bearer_security(schema):
    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_documentation_pages_render_self_hosted(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert "/openapi.json" in html
    assert "cdn.jsdelivr.net" not in html
    assert "fonts.googleapis.com" not in html
    assert "https://" not in html
