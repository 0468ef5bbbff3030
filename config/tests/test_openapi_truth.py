"""/openapi.json documents what each operation really answers: its shared error statuses
(in the envelope) and the real shape of its lists."""

import re

import pytest
from rest_framework.test import APIClient

from accounts.tests.helpers import assert_envelope, bearer, login

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from core.tests.cache import clear_cache

    with django_db_blocker.unblock():
        clear_cache()
        response = APIClient().get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def _schema_of(schema, response: dict) -> dict:
    found = response["content"]["application/json"]["schema"]
    while "$ref" in found:
        found = schema["components"]["schemas"][found["$ref"].rsplit("/", 1)[-1]]
    return found


def test_every_operation_documents_its_success(schema):
    undocumented = [
        (method, path)
        for path, method, operation in _operations(schema)
        if not any(status.startswith("2") for status in operation["responses"])
    ]
    assert undocumented == []


def test_every_operation_has_a_written_summary(schema):
    """The docs site and /docs list operations by their summary: each says in words
    what the operation does, never blank and never the generated operation id."""
    missing = [
        (method, path)
        for path, method, operation in _operations(schema)
        if not operation.get("summary", "").strip()
    ]
    assert missing == []
    looks_generated = [
        (method, path, operation["summary"])
        for path, method, operation in _operations(schema)
        if re.fullmatch(r"[a-z0-9_]+", operation["summary"].strip())
        or operation["summary"].strip().lower().replace(" ", "_")
        == operation.get("operationId", "").lower()
    ]
    assert looks_generated == []
    blank_descriptions = [
        (method, path)
        for path, method, operation in _operations(schema)
        if "description" in operation and not operation["description"].strip()
    ]
    assert blank_descriptions == []


_SOURCE_WORDS = re.compile(r"seed|promptenchanter|spec document|ai marketplace document", re.I)


def test_the_document_speaks_of_the_service_itself(schema):
    texts = [
        ("info", schema["info"].get("title", "")),
        ("info", schema["info"].get("description", "")),
    ]
    for path, method, operation in _operations(schema):
        texts += [
            ((method, path), operation.get(field, "")) for field in ("summary", "description")
        ]
    for name, component in schema["components"]["schemas"].items():
        texts.append((name, component.get("description", "")))
        for field, prop in component.get("properties", {}).items():
            texts.append(((name, field), prop.get("description", "")))
    assert [(where, text) for where, text in texts if _SOURCE_WORDS.search(text)] == []


def test_every_operation_documents_the_statuses_of_the_request_path(schema):
    for path, method, operation in _operations(schema):
        documented = set(operation["responses"])
        assert documented >= {"400", "413", "503"}, (method, path, documented)
        if not path.startswith(("/health", "/api/v1/health")):
            # The firewall's IP block and request budget.
            assert documented >= {"403", "429"}, (method, path, documented)
        if method in ("post", "put", "patch", "delete"):
            assert "415" in documented, (method, path, documented)
        if "{" in path:
            assert "404" in documented, (method, path, documented)


@pytest.mark.parametrize(
    "path", ["/v1/prompt/completions", "/v1/batch/process", "/v1/chat/completions"]
)
def test_metered_operations_document_the_model_backend_failures(schema, path):
    assert {"502", "504"} <= set(schema["paths"][path]["post"]["responses"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/auth/change-password"),
        ("post", "/api/v1/users/me/change-password"),
        ("put", "/v1/users/password"),
        ("put", "/v1/users/email"),
        ("delete", "/v1/users/account"),
        ("post", "/api/v1/auth/mfa/totp/setup"),
        ("post", "/api/v1/auth/mfa/disable"),
        ("post", "/api/v1/auth/mfa/recovery-codes"),
    ],
)
def test_operations_that_confirm_a_password_document_the_lockout(schema, method, path):
    assert {"423", "429"} <= set(schema["paths"][path][method]["responses"])


def test_every_operation_that_reads_a_credential_documents_401(schema):
    for path, method, operation in _operations(schema):
        if any(requirement for requirement in operation.get("security", [{}])):
            assert "401" in operation["responses"], (method, path)


# OpenAI's clients read errors under `error`: there the envelope sits inside it.
OPENAI_PATHS = ("/v1/chat/completions", "/v1/models")
OPENAI_FIELDS = {"type", "code", "param"}


def test_every_error_is_documented_as_the_envelope(schema):
    for path, method, operation in _operations(schema):
        for status, response in operation["responses"].items():
            probe_answer = status == "503" and path.startswith(("/health", "/api/v1/health"))
            if status.startswith(("4", "5")) and not probe_answer:
                body = _schema_of(schema, response)
                if path in OPENAI_PATHS:
                    assert set(body["properties"]) == {"error"}, (method, path, status)
                    body = body["properties"]["error"]
                    body = body.get("allOf", [body])[0]
                    while "$ref" in body:
                        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
                    assert set(body["required"]) >= OPENAI_FIELDS, (method, path, status)
                    body = {
                        "required": set(body["required"]) - OPENAI_FIELDS,
                        "properties": set(body["properties"]) - OPENAI_FIELDS,
                    }
                assert set(body["required"]) == {"success", "message", "errors", "details"}, (
                    method,
                    path,
                    status,
                )
                assert set(body["properties"]) == {
                    "success",
                    "message",
                    "errors",
                    "error_code",
                    "details",
                }


def test_the_streamed_completion_is_documented_as_server_sent_events(schema):
    answers = schema["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]

    assert set(answers) == {"application/json", "text/event-stream"}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/api-keys", "/api/v1/roles", "/api/v1/users/me/sessions", "/v1/admin-panel/lockouts"],
)
def test_unpaged_lists_document_their_results_object(schema, path):
    body = _schema_of(schema, schema["paths"][path]["get"]["responses"]["200"])

    assert body["type"] == "object"
    assert body["properties"]["results"]["type"] == "array"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/users", "/api/v1/tenants", "/v1/admin-panel/users", "/v1/admin-panel/audit-logs"],
)
def test_paged_lists_document_the_page_and_its_404(schema, path):
    operation = schema["paths"][path]["get"]
    body = _schema_of(schema, operation["responses"]["200"])
    keyset = "cursor" in {parameter["name"] for parameter in operation.get("parameters", [])}

    # A list that also serves keyset pages answers `pagination` with `page` only, and
    # `next`/`previous` with `cursor`.
    if keyset:
        assert set(body["required"]) == {"success", "results"}
        assert {"next", "previous"} <= set(body["properties"])
    else:
        assert set(body["required"]) == {"success", "pagination", "results"}
    assert set(body["properties"]["pagination"]["properties"]) == {
        "page",
        "page_size",
        "total",
        "pages",
    }
    assert "404" in operation["responses"]


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/v1/admin-panel/ip-whitelist/{id}", {"success", "message"}),
        ("/v1/admin-panel/lockouts/{id}", {"success", "message", "cleared"}),
    ],
)
def test_admin_panel_removals_document_their_answer(schema, path, fields):
    body = _schema_of(schema, schema["paths"][path]["delete"]["responses"]["200"])

    assert set(body["properties"]) == fields


def test_the_document_is_served_to_a_caller_holding_an_api_key(api_client):
    response = api_client.get("/openapi.json", HTTP_X_API_KEY="pe-not-a-real-key")

    assert response.status_code == 200
    assert "paths" in response.json()


def test_the_document_is_served_to_a_caller_holding_a_stale_token(api_client):
    response = api_client.get("/openapi.json", HTTP_AUTHORIZATION="Bearer not.a.token")

    assert response.status_code == 200


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope", "/v1/users/nope/deeper"])
def test_unknown_routes_answer_not_found_with_a_code(api_client, method, path):
    assert_envelope(getattr(api_client, method)(path), 404, "NOT_FOUND")


def test_unknown_route_with_a_session_token_still_answers_not_found(api_client, user):
    tokens = login(api_client, user.email)
    response = api_client.get("/api/v1/nope", **bearer(tokens["access_token"]))

    assert_envelope(response, 404, "NOT_FOUND")
