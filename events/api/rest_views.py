"""The event catalogue: every event type and the JSON schema of its message."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import error_responses
from events.catalog import EventType, schema_of


class EventTypesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["webhooks"],
        summary="Event types and the JSON schema of each",
        responses={200: dict, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(
            {"results": [{"type": t.value, "schema": schema_of(t.value)} for t in EventType]}
        )
