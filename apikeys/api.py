"""API keys over HTTP: the product's single key (/v1/users/api-key) and the REST resource."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authz import rules as authz
from accounts.authz.roles import Permission
from accounts.selectors import users_visible_to
from apikeys import services
from apikeys.models import APIKey
from core.openapi import error_responses, results_list
from security import ratelimits

CLEAR_KEY_NOTE = (
    "The full key is shown only when it is created or regenerated; it cannot be shown again."
)
NO_PRIMARY_KEY_NOTE = (
    "This account has no live primary key (it was revoked or has expired); "
    "POST /v1/users/api-key/regenerate makes a new one."
)


class APIKeySerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="masked", read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = APIKey
        fields = [
            "id",
            "name",
            "key",
            "scopes",
            "is_primary",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "active",
            "user_id",
        ]
        read_only_fields = fields

    def get_active(self, key: APIKey) -> bool:
        return key.is_usable()


class APIKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    expires_in = serializers.CharField(max_length=40, required=False, allow_blank=True)


def _issued_body(issued: services.IssuedKey) -> dict:
    return {**APIKeySerializer(issued.key).data, "api_key": issued.clear, "note": CLEAR_KEY_NOTE}


class ProductAPIKeyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["v1 users"],
        summary="The primary API key, masked",
        responses={200: dict, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        key = services.masked_primary(request.user)
        return Response(
            {
                "success": True,
                "api_key": key.masked if key else None,
                "created_at": key.created_at if key else None,
                "last_used_at": key.last_used_at if key else None,
                "note": CLEAR_KEY_NOTE if key else NO_PRIMARY_KEY_NOTE,
            }
        )


class ProductAPIKeyRegenerateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["v1 users"],
        summary="A new primary key (the old one dies at once)",
        request=None,
        responses={200: dict, **error_responses(401, 429)},
    )
    @ratelimits.rate_limited(ratelimits.API_KEY_CREATE_PER_USER)
    def post(self, request: Request) -> Response:
        issued = services.apikey_regenerate_primary(user=request.user)
        return Response(
            {
                "success": True,
                "message": "API key regenerated",
                "api_key": issued.clear,
                "note": CLEAR_KEY_NOTE,
            }
        )


@extend_schema_view(
    list=extend_schema(
        tags=["api keys"], responses={200: results_list("APIKeyList", APIKeySerializer)}
    ),
    retrieve=extend_schema(
        tags=["api keys"], responses={200: APIKeySerializer, **error_responses(401, 404)}
    ),
    create=extend_schema(
        tags=["api keys"],
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
        if self.action == "list" or not authz.can(actor, Permission.WRITE_USERS):
            return APIKey.objects.filter(user=actor)
        return APIKey.objects.filter(user__in=users_visible_to(actor)).select_related("user")

    def get_object(self) -> APIKey:
        """One's own key without asking for staff rights; someone else's through them."""
        own = APIKey.objects.filter(user=self.request.user, pk=self.kwargs["pk"]).first()
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
        )
        return Response(_issued_body(issued), status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        key = self.get_object()
        if key.user_id != request.user.pk and not authz.can(
            request.user, Permission.WRITE_USERS, key.user
        ):
            return self.permission_denied(request)
        return Response(APIKeySerializer(services.apikey_revoke(key=key, actor=request.user)).data)

    @extend_schema(
        tags=["api keys"], request=None, responses={200: dict, **error_responses(401, 404, 409)}
    )
    @action(detail=True, methods=["post"])
    def rotate(self, request: Request, pk: str) -> Response:
        key = self.get_object()
        if key.user_id != request.user.pk:
            return self.permission_denied(request)
        return Response(_issued_body(services.apikey_rotate(key=key, actor=request.user)))
