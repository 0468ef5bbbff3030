import json
import logging

import pytest

from accounts.tests.helpers import LOGIN_URL, ME_URL, REGISTER_URL, assert_envelope


@pytest.mark.parametrize("path", ["/api/v1/nowhere", "/v1/nothing/here", "/health/extra", "/x"])
def test_unknown_path_is_404_envelope(api_client, db, path):
    assert_envelope(api_client.get(path), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", LOGIN_URL),
        ("delete", "/health"),
        ("put", REGISTER_URL),
        ("patch", "/v1/users/login"),
    ],
)
def test_wrong_method_is_405_envelope(api_client, db, method, path):
    response = getattr(api_client, method)(path)

    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "Allow" in response


def test_malformed_json_is_400_envelope(api_client, db):
    response = api_client.generic(
        "POST", LOGIN_URL, '{"email": "a@b.c", "password": ', content_type="application/json"
    )

    assert_envelope(response, 400, "PARSE_ERROR")


def test_non_json_body_is_415_envelope(api_client, db):
    response = api_client.generic(
        "POST",
        LOGIN_URL,
        "email=a@b.c&password=x",
        content_type="application/x-www-form-urlencoded",
    )

    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_json_array_body_is_400_envelope(api_client, db):
    response = api_client.generic("POST", LOGIN_URL, "[1, 2]", content_type="application/json")

    assert_envelope(response, 400)


def test_ten_megabyte_body_is_413_envelope(api_client, db):
    payload = json.dumps({"email": "a@b.c", "password": "x" * (10 * 1024 * 1024)})

    response = api_client.generic("POST", REGISTER_URL, payload, content_type="application/json")

    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_unhandled_api_error_is_500_envelope_without_details(api_client, db, settings):
    settings.ROOT_URLCONF = "core.tests.crash_urls"
    api_client.raise_request_exception = False

    response = api_client.get("/api/v1/_crash")

    body = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert "hunter2" not in response.content.decode()
    assert body["message"] == "Internal server error."


def test_unhandled_plain_view_error_is_500_envelope(api_client, db, settings):
    settings.ROOT_URLCONF = "core.tests.crash_urls"
    api_client.raise_request_exception = False

    assert_envelope(api_client.get("/v1/_crash_plain"), 500)


def test_request_id_is_echoed_when_sent(api_client, db):
    response = api_client.get("/api/v1/nowhere", HTTP_X_REQUEST_ID="client-abc.123")

    assert response["X-Request-ID"] == "client-abc.123"
    assert response.json()["details"]["request_id"] == "client-abc.123"


@pytest.mark.parametrize("bad", ["has space", "x" * 200, "semi;colon", "new\\nline"])
def test_unsafe_request_id_is_replaced(api_client, db, bad):
    response = api_client.get("/health", HTTP_X_REQUEST_ID=bad)

    assert response["X-Request-ID"].startswith("req_")


def test_request_id_is_generated_on_success(api_client, db):
    response = api_client.get("/api/v1/health/live")

    assert response.status_code == 200
    assert response["X-Request-ID"].startswith("req_")


def test_every_log_line_of_a_request_carries_its_request_id(api_client, user, caplog):
    caplog.set_level(logging.INFO)
    api_client.post(
        LOGIN_URL,
        {"email": user.email, "password": "SecurePass123"},
        format="json",
        HTTP_X_REQUEST_ID="trace-42",
    )

    lines = [record.msg for record in caplog.records if isinstance(record.msg, dict)]
    assert {line["event"] for line in lines} >= {"login_succeeded", "request"}
    assert all(line["request_id"] == "trace-42" for line in lines)


def test_logs_never_contain_passwords_or_tokens(api_client, user, caplog):
    caplog.set_level(logging.DEBUG)
    body = api_client.post(
        LOGIN_URL, {"email": user.email, "password": "SecurePass123"}, format="json"
    ).json()
    api_client.post(LOGIN_URL, {"email": user.email, "password": "WrongSecret999"}, format="json")
    api_client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")

    output = caplog.text
    assert "login_succeeded" in output
    for secret in ("SecurePass123", "WrongSecret999", body["access_token"], body["refresh_token"]):
        assert secret not in output


def test_html_paths_keep_html_errors(client, db):
    response = client.get("/admin/does-not-exist/")

    assert response.status_code in (302, 404)
    assert not response.get("Content-Type", "").startswith("application/json")
