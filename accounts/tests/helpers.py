"""Small request helpers shared by the account tests."""

from rest_framework.test import APIClient

from accounts.tests.factories import DEFAULT_PASSWORD

REGISTER_URL = "/api/v1/auth/register"
LOGIN_URL = "/api/v1/auth/login"
REFRESH_URL = "/api/v1/auth/refresh"
LOGOUT_URL = "/api/v1/auth/logout"
ME_URL = "/api/v1/users/me"


def login(
    client: APIClient,
    identifier: str,
    password: str = DEFAULT_PASSWORD,
    *,
    body: dict | None = None,
    **request_meta,
) -> dict:
    """Log in through the REST API; `body` adds JSON fields, keywords set request META."""
    response = client.post(
        LOGIN_URL,
        {"email": identifier, "password": password, **(body or {})},
        format="json",
        **request_meta,
    )
    assert response.status_code == 200, response.json()
    return response.json()


def bearer(access_token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}


def assert_envelope(response, status: int, code: str | None = None) -> dict:
    """The response is the error envelope with this status (and error code)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], list) and body["errors"]
    assert body["details"]["request_id"] == response["X-Request-ID"]
    assert body["details"]["timestamp"].endswith("Z")
    if code is not None:
        assert body["error_code"] == code, body
    return body


def token_in(mail) -> str:
    """The token line of an account email (one long word on a line of its own)."""
    return max((line for line in mail.body.splitlines() if " " not in line), key=len)
