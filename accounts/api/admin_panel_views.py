"""Seed 003's admin-panel users: /v1/admin-panel/users and /v1/admin-panel/users/{id}.

The user admin API under seed 003's paths, for platform admins only, as the rest of
the admin panel (tenant staff manage their own users under /api/v1/users). A user's
details carry their balance, and an update also takes seed 003's `credits` and
`limits` objects: the profile and the balance change in one transaction, the
balance first, through the credits service (its checks, ledger row and audit
record), which writes only to the database. So a refused balance is refused before
the profile change could end sessions or drop cached rights, which no rollback
takes back.
"""

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import user_admin
from accounts.api import serializers as s
from accounts.api.admin_views import UserAdminViewSet
from core.errors import ValidationFailed
from core.openapi import error_responses
from credits.api.serializers import CreditChangeSerializer, balance_body
from credits.services import credits_set
from security.api.views import AdminPanelViewSet

TAG = "admin panel"

_CREDIT_FIELDS = ("credits", "limits", "reason")


class AdminPanelUserUpdateSerializer(s.AdminUserUpdateSerializer, CreditChangeSerializer):
    """The staff-editable profile fields plus seed 003's `credits` and `limits`."""


def _detail(user) -> dict:
    return {**s.UserSerializer(user).data, **balance_body(user)}


_UPDATE = extend_schema(
    tags=[TAG],
    summary="Update a user: staff-editable fields and seed 003's credits and limits",
    request=AdminPanelUserUpdateSerializer,
    responses={200: dict, **error_responses(400, 401, 403, 404, 409)},
)


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="Users, paged",
        parameters=[s.UserFilterSerializer],
        responses={200: s.UserSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="A user, with their balance",
        responses={200: dict, **error_responses(401, 403, 404)},
    ),
    update=_UPDATE,
    partial_update=_UPDATE,
    destroy=extend_schema(
        tags=[TAG],
        summary="Delete a user (recoverable until purged); `reason` in the query",
        responses={200: s.MessageSerializer, **error_responses(401, 403, 404)},
    ),
)
class AdminPanelUserViewSet(AdminPanelViewSet, UserAdminViewSet):
    """The admin panel's access rule (and its record of refusals), the user admin's views."""

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(_detail(self.get_object()))

    def update(self, request: Request, pk: str) -> Response:
        serializer = AdminPanelUserUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        profile = dict(serializer.validated_data)
        balance = {name: profile.pop(name) for name in _CREDIT_FIELDS if name in profile}
        changes_balance = "credits" in balance or "limits" in balance
        if not profile and not changes_balance:
            raise ValidationFailed("Nothing to change.", code="NOTHING_TO_CHANGE")
        user = self.get_object()
        with transaction.atomic():
            if changes_balance:
                credits_set(
                    user=user,
                    actor=request.user,
                    credits=balance.get("credits"),
                    limits=balance.get("limits"),
                    reason=balance.get("reason", ""),
                )
            if profile:
                user = user_admin.user_update_by_admin(actor=request.user, user=user, data=profile)
        return Response(_detail(user))


# The seed's four operations only; the rest of the user admin API stays under /api/v1/users.
users_view = AdminPanelUserViewSet.as_view({"get": "list"})
user_view = AdminPanelUserViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)
