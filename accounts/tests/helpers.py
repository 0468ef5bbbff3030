"""Request helpers and data shared by the account tests (and other apps' tests)."""

from urllib.parse import parse_qs, urlparse

import pyotp
from django import forms
from rest_framework.test import APIClient

from accounts.auth import email_tokens
from accounts.tests.factories import DEFAULT_PASSWORD
from gateway.openai_errors import OPENAI_PATHS

REGISTER_URL = "/api/v1/auth/register"
LOGIN_URL = "/api/v1/auth/login"
REFRESH_URL = "/api/v1/auth/refresh"
LOGOUT_URL = "/api/v1/auth/logout"
ME_URL = "/api/v1/users/me"

SETUP = "/api/v1/auth/mfa/totp/setup"
CONFIRM = "/api/v1/auth/mfa/totp/confirm"
VERIFY = "/api/v1/auth/mfa/verify"
CODES = "/api/v1/auth/mfa/recovery-codes"
DISABLE = "/api/v1/auth/mfa/disable"

# The password of every factory-made account, as a client types it.
PASSWORD = "SecurePass123"

# A valid registration at /api/v1/auth/register, and one at /v1/users/register.
REGISTRATION = {
    "email": "john@example.com",
    "username": "johndoe",
    "password": "SecurePass123",
    "first_name": "John",
    "last_name": "Doe",
}
V1_REGISTRATION = {
    "username": "johndoe",
    "name": "John Doe",
    "email": "john@example.com",
    "password": "SecurePass123",
    "user_type": "Personal",
    "about_me": "AI enthusiast and developer",
    "hobbies": "Programming, reading, hiking",
}
# The account the password tests register, with the password under test.
PASSWORD_TEST_ACCOUNT = {"email": "pw@example.com", "username": "pwuser", "first_name": "Pat"}

# Every check of a logged-in user's password: (method, url, body, password field).
PASSWORD_CHECKS = {
    "email change": ("put", "/v1/users/email", {"email": "new@example.com"}, "password"),
    "deletion (v1)": ("delete", "/v1/users/account", {}, "password"),
    "deletion (me)": ("delete", ME_URL, {}, "password"),
    "password change": (
        "post",
        "/api/v1/auth/change-password",
        {"new_password": "BrandNewPass456"},
        "current_password",
    ),
    "password change (v1)": (
        "put",
        "/v1/users/password",
        {"new_password": "BrandNewPass456"},
        "current_password",
    ),
    "MFA setup": ("post", SETUP, {}, "password"),
    "MFA disable": ("post", DISABLE, {"code": "123456"}, "password"),
    "MFA recovery codes": (
        "post",
        "/api/v1/auth/mfa/recovery-codes",
        {"code": "123456"},
        "password",
    ),
}


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
    if OPENAI_PATHS.match(response.request["PATH_INFO"]):
        body = body["error"]  # the OpenAI-compatible routes carry the envelope under "error"
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


def post_refresh(api_client, token: str, url: str = REFRESH_URL):
    return api_client.post(url, {"refresh_token": token}, format="json")


def register_with_password(api_client, password: str):
    return api_client.post(
        REGISTER_URL, {**PASSWORD_TEST_ACCOUNT, "password": password}, format="json"
    )


def send_password_check(api_client, name: str, password: str, auth: dict, **meta):
    """Send one of PASSWORD_CHECKS with this password."""
    method, url, body, field = PASSWORD_CHECKS[name]
    return getattr(api_client, method)(
        url, {**body, field: password}, format="json", **auth, **meta
    )


def delete_own_account(api_client, user):
    auth = bearer(login(api_client, user.email)["access_token"])
    api_client.delete("/api/v1/users/me", {"password": PASSWORD}, format="json", **auth)


def recover_account(api_client, user):
    token = email_tokens.account_recovery_token(user)
    return api_client.post("/api/v1/auth/recover-account/confirm", {"token": token}, format="json")


def totp_secret_from(enrolment: dict) -> str:
    query = parse_qs(urlparse(enrolment["otpauth_uri"]).query)
    return query["secret"][0]


def enrol(api_client, user) -> tuple[pyotp.TOTP, list[str]]:
    """Enrol a TOTP app the way a client would; return an independent generator and codes."""
    auth = bearer(login(api_client, user.email)["access_token"])
    enrolment = api_client.post(SETUP, {"password": PASSWORD}, format="json", **auth).json()
    totp = pyotp.TOTP(totp_secret_from(enrolment))
    confirmed = api_client.post(CONFIRM, {"code": totp.now()}, format="json", **auth)
    assert confirmed.status_code == 200, confirmed.json()
    return totp, confirmed.json()["recovery_codes"]


def password_step(api_client, user, url: str = LOGIN_URL) -> dict:
    response = api_client.post(url, {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def _fields(form) -> dict:
    """What a browser posts back for a form as it was shown."""
    data = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value = bound.value()
        if isinstance(bound.field, forms.BooleanField):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(item) for item in value]
        else:
            data[bound.html_name] = "" if value is None else str(value)
    return data


def admin_change_form(client, user, **changes) -> dict:
    """The admin user page's form and its lists, as shown, with `changes` applied."""
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == 200
    data = _fields(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        data.update(_fields(inline.formset.management_form))
        for row in inline.formset.forms:
            data.update(_fields(row))
    data.update(changes)
    return data
