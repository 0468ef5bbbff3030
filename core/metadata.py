"""What an OPTIONS request answers: the view's name, description, formats and methods.

DRF's default also describes the body each writable method takes, which for a
detail route looks the object up and checks object permissions as if for a PUT;
the OpenAPI document (/openapi.json) is where request bodies are described.
"""

from rest_framework.metadata import SimpleMetadata


class ViewMetadata(SimpleMetadata):
    def determine_actions(self, request, view) -> dict:
        return {}
