"""/api/v1/oauth/applications: a tenant's OAuth clients, managed by its admins."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.openapi import error_responses, results_list
from oauth import services
from oauth.api.serializers import (
    ApplicationCreateSerializer,
    ApplicationSerializer,
    ApplicationUpdateSerializer,
    RegisteredApplicationSerializer,
    registered_body,
    secret_body,
)
from oauth.selectors import applications_visible_to

TAG = "oauth applications"


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="The OAuth applications of the caller's tenant (manage:tenant)",
        responses={200: results_list("OAuthApplicationList", ApplicationSerializer)},
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="An OAuth application",
        responses={200: ApplicationSerializer, **error_responses(401, 404)},
    ),
    create=extend_schema(
        tags=[TAG],
        summary="Register an OAuth application; a confidential client's secret is shown once",
        request=ApplicationCreateSerializer,
        responses={201: RegisteredApplicationSerializer, **error_responses(400, 401, 403, 415)},
    ),
    partial_update=extend_schema(
        tags=[TAG],
        summary="Change an application's name, redirect URIs or origins",
        request=ApplicationUpdateSerializer,
        responses={200: ApplicationSerializer, **error_responses(400, 401, 404, 415)},
    ),
    destroy=extend_schema(
        tags=[TAG],
        summary="Delete an application and every token it holds",
        responses={204: None, **error_responses(401, 404)},
    ),
)
class ApplicationViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = ApplicationSerializer
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return applications_visible_to(self.request.user)

    def list(self, request: Request) -> Response:
        return Response({"results": ApplicationSerializer(self.get_queryset(), many=True).data})

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ApplicationSerializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        serializer = ApplicationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.to_service_fields()
        registered = services.application_create(actor=request.user, **fields)
        return Response(registered_body(registered), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        serializer = ApplicationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = services.application_update(
            actor=request.user, application=self.get_object(), **serializer.to_service_fields()
        )
        return Response(ApplicationSerializer(application).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.application_delete(actor=request.user, application=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=[TAG],
        summary="A new client secret, shown once; every token of the application ends",
        request=None,
        responses={200: RegisteredApplicationSerializer, **error_responses(401, 404)},
    )
    @action(detail=True, methods=["post"], url_path="secret")
    def secret(self, request: Request, pk: str) -> Response:
        application = self.get_object()
        secret = services.application_secret_reset(actor=request.user, application=application)
        return Response(secret_body(application, secret))
