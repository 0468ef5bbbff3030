"""The OpenAPI document describes exactly the limits the prompt checks enforce."""

from rest_framework.test import APIClient

from gateway import prompts

COMPLETIONS = "/v1/prompt/completions"


BATCH = "/v1/batch/process"


def _component(schema: dict, name: str) -> dict:
    return schema["components"]["schemas"][name]


def test_openapi_describes_the_limits_the_checks_enforce(db):
    schema = APIClient().get("/openapi.json").json()
    completion = schema["paths"][COMPLETIONS]["post"]["requestBody"]["content"]
    name = completion["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    fields = _component(schema, name)["properties"]

    assert _component(schema, name)["required"] == ["messages"]
    assert fields["level"]["maxLength"] == prompts.MAX_LEVEL
    assert fields["level"]["default"] == prompts.DEFAULT_LEVEL
    assert fields["r_type"]["maxLength"] == prompts.MAX_R_TYPE
    assert fields["model"]["maxLength"] == prompts.MAX_MODEL
    assert fields["research_enabled"]["type"] == "boolean"
    messages = fields["messages"]
    assert (messages["minItems"], messages["maxItems"]) == (1, prompts.MAX_MESSAGES)
    assert messages["items"]["properties"]["role"]["enum"] == list(prompts.ROLES)
    assert messages["items"]["properties"]["content"]["maxLength"] == prompts.MAX_CONTENT
