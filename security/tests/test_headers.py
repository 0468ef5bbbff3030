import pytest


@pytest.mark.parametrize("path", ["/health", "/api/v1/users/me", "/admin/login/"])
def test_security_headers_on_every_response(client, db, path):
    response = client.get(path)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_cors_allows_configured_origin_only(client, db, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://console.example.com"]

    allowed = client.options(
        "/api/v1/auth/login",
        HTTP_ORIGIN="https://console.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    other = client.options(
        "/api/v1/auth/login",
        HTTP_ORIGIN="https://evil.example.net",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )

    assert allowed["Access-Control-Allow-Origin"] == "https://console.example.com"
    assert "Access-Control-Allow-Origin" not in other


def test_hsts_in_production_settings():
    from config.tests.settings_probe import setting_values

    strong = "k" * 30 + "Q7!x" * 10
    values = setting_values(
        {"ENVIRONMENT": "production", "SECRET_KEY": strong, "JWT_SECRET_KEY": strong[::-1]},
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
    )

    assert values == {
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
    }
