"""API keys as a REST resource: /api/v1/api-keys (the caller's; staff see and revoke others')."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys import services
from apikeys.api.serializers import APIKeyCreateSerializer, APIKeySerializer, issued_body
from apikeys.models import APIKey
from apikeys.selectors import api_key_own, api_keys_of, api_keys_visible_to
from core.openapi import error_responses, results_list
from security import ratelimits


@extend_schema_view(
    list=extend_schema(
        tags=["api keys"],
        summary="The caller's API keys",
        responses={200: results_list("APIKeyList", APIKeySerializer)},
    ),
    retrieve=extend_schema(
        tags=["api keys"],
        summary="An API key (the caller's, or a user's the caller may change)",
        responses={200: APIKeySerializer, **error_responses(401, 404)},
    ),
    create=extend_schema(
        tags=["api keys"],
        summary="Issue an API key; the secret is shown once",
        request=APIKeyCreateSerializer,
        responses={201: dict, **error_responses(400, 401, 429)},
    ),
    destroy=extend_schema(
        tags=["api keys"],
        summary="Revoke",
        responses={200: APIKeySerializer, **error_responses(401, 404)},
    ),
)
class APIKeyViewSet(viewsets.GenericViewSet):
    """The caller's keys; staff who may change a user may also see and revoke theirs."""

    permission_classes = [IsAuthenticated]
    serializer_class = APIKeySerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        actor = self.request.user
        return api_keys_of(actor) if self.action == "list" else api_keys_visible_to(actor)

    def get_object(self) -> APIKey:
        """One's own key without asking for staff rights; someone else's through them."""
        own = api_key_own(user=self.request.user, pk=self.kwargs["pk"])
        if own is None:
            return super().get_object()
        self.check_object_permissions(self.request, own)
        return own

    def list(self, request: Request) -> Response:
        return Response({"results": APIKeySerializer(self.get_queryset(), many=True).data})

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(APIKeySerializer(self.get_object()).data)

    @ratelimits.rate_limited(ratelimits.API_KEY_CREATE_PER_USER)
    def create(self, request: Request) -> Response:
        serializer = APIKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        issued = services.apikey_create(
            user=request.user,
            name=data["name"],
            scopes=data.get("scopes"),
            expires_in=data.get("expires_in"),
            actor=request.user,
        )
        return Response(issued_body(issued), status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        key = services.apikey_revoke(key=self.get_object(), actor=request.user)
        return Response(APIKeySerializer(key).data)

    @extend_schema(
        tags=["api keys"],
        summary="Rotate: revoke the key and issue its replacement (secret shown once)",
        request=None,
        responses={200: dict, **error_responses(401, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def rotate(self, request: Request, pk: str) -> Response:
        return Response(
            issued_body(services.apikey_rotate(key=self.get_object(), actor=request.user))
        )
