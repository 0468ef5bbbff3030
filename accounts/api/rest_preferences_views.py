"""/api/v1/users/me/preferences (the caller's own), its history, another user's
profile as their privacy allows, and the staff's bulk change of preferences."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import serializers as s
from accounts.api.base_views import validated_data
from accounts.authz.roles import Permission
from accounts.preferences import effective_preferences
from accounts.selectors import email_visible_to, preference_changes_of, user_profile_visible
from accounts.services.preferences import (
    preferences_bulk_merge,
    preferences_merge,
    preferences_replace,
)
from core.openapi import error_responses
from core.pagination import EnvelopePagination

TAG = "preferences"


class MyPreferencesView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    # A key reads (`read:self`); changes take a login session.
    accepts_api_keys = True
    api_key_permissions = {"get": Permission.READ_SELF}
    serializer_class = s.PreferencesSerializer

    @extend_schema(
        tags=[TAG],
        summary="The caller's effective preferences (defaults with their choices over them)",
        responses={200: s.PreferencesSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(effective_preferences(request.user))

    @extend_schema(
        tags=[TAG],
        summary="Replace the caller's choices; omitted keys fall back to the defaults",
        request=s.PreferencesChoicesSerializer,
        responses={200: s.PreferencesSerializer, **error_responses(400, 401, 403, 415)},
    )
    def put(self, request: Request) -> Response:
        user = preferences_replace(user=request.user, actor=request.user, document=request.data)
        return Response(effective_preferences(user))

    @extend_schema(
        tags=[TAG],
        summary="Merge into the caller's choices (`null` resets a key to its default)",
        request=s.PreferencesChoicesSerializer,
        responses={200: s.PreferencesSerializer, **error_responses(400, 401, 403, 415)},
    )
    def patch(self, request: Request) -> Response:
        user = preferences_merge(user=request.user, actor=request.user, patch=request.data)
        return Response(effective_preferences(user))


class MyPreferenceHistoryView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    # A key reads (`read:self`); changes take a login session.
    accepts_api_keys = True
    api_key_permissions = {"get": Permission.READ_SELF}
    serializer_class = s.PreferenceChangeSerializer
    pagination_class = EnvelopePagination

    @extend_schema(
        tags=[TAG],
        summary="Changes of the caller's preferences, newest first",
        responses={200: s.PreferenceChangeSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request) -> Response:
        changes = preference_changes_of(request.user).select_related("actor")
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(s.PreferenceChangeSerializer(page, many=True).data)


class UserProfileView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.PublicProfileSerializer

    @extend_schema(
        tags=["users"],
        summary="Another user's profile, as their `privacy.profile_visibility` allows",
        description=(
            "`public`: any signed-in user; `tenant`: members of the same tenant; "
            "`private`: only the owner and admins. A hidden profile is a 404, as a "
            "missing one. `email` is null unless `privacy.show_email` allows it."
        ),
        responses={200: s.PublicProfileSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, pk: str) -> Response:
        user = user_profile_visible(viewer=request.user, pk=int(pk))
        if user is None:
            raise Http404
        body = s.PublicProfileSerializer(user).data
        if not email_visible_to(request.user, user):
            body["email"] = None
        return Response(body)


class PreferencesBulkView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.PreferencesBulkSerializer

    @extend_schema(
        tags=["user admin"],
        summary="Merge a preferences change into many users: all of them or none",
        description=(
            "Selects users by `ids` or by `filter` (the user list's filters: `tenant`, "
            "`role`, `status`, `plan`, `search`, `created_after`, `created_before`), "
            "within the users the caller sees. Needs `write:users` over every selected "
            "user; any refusal or invalid value changes nothing. At most 1000 users."
        ),
        request=s.PreferencesBulkSerializer,
        responses={200: s.PreferencesBulkResultSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated_data(s.PreferencesBulkSerializer, request.data)
        counts = preferences_bulk_merge(
            actor=request.user,
            patch=data["preferences"],
            ids=data.get("ids"),
            filters=data.get("filter"),
        )
        return Response({"success": True, **counts})
