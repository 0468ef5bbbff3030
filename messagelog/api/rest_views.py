from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated

from core.openapi import error_responses
from core.pagination import EnvelopeCursorPagination
from messagelog.api.serializers import MessageLogSerializer
from messagelog.selectors import messages_list


class NewestFirst(EnvelopeCursorPagination):
    ordering = ("-timestamp", "-id")


class MyMessagesView(ListAPIView):
    """The caller's own conversations through the metered API, newest first, in keyset
    pages (the log is the largest table: pages are never counted)."""

    permission_classes = [IsAuthenticated]
    serializer_class = MessageLogSerializer
    pagination_class = NewestFirst

    @extend_schema(
        tags=["me"],
        summary="The caller's conversations",
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="from this time on"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="before this time"),
            OpenApiParameter("model", OpenApiTypes.STR, description="only this model"),
        ],
        responses={200: MessageLogSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return messages_list(actor=self.request.user, filters=self.request.query_params)
