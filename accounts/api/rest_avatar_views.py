"""/api/v1/users/me/avatar: the caller's own avatar (a multipart upload, or removal).

Only the caller's account is ever reached here: the route names no user. The
read-only (guest) role is refused by the authentication (403 ROLE_READ_ONLY).
"""

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import serializers as s
from accounts.avatars import AVATAR_MAX_BYTES
from accounts.errors import AccountErrorCode
from accounts.models import User
from accounts.services import avatars
from core.errors import ValidationFailed
from core.openapi import error_responses
from security import ratelimits


def uploaded_avatar(request: Request) -> bytes:
    """The bytes of the `avatar` file field, read no further than one byte over the
    limit (the service says how large is too large)."""
    upload = request.FILES.get("avatar")
    if upload is None:
        raise ValidationFailed(
            "avatar: send the image as the multipart file field `avatar`.",
            code=AccountErrorCode.AVATAR_MISSING,
        )
    return upload.read(AVATAR_MAX_BYTES + 1)


class AvatarView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]
    serializer_class = s.AvatarUploadSerializer

    @extend_schema(
        tags=["users"],
        summary="Set or replace the caller's avatar (multipart field `avatar`)",
        request={"multipart/form-data": s.AvatarUploadSerializer},
        responses={200: s.UserSerializer, **error_responses(400, 401, 403, 413, 415, 429)},
    )
    def put(self, request: Request) -> Response:
        return self.upload(request)

    @ratelimits.rate_limited(ratelimits.AVATAR_UPLOAD_PER_USER)
    def upload(self, request: Request) -> Response:
        user = avatars.avatar_set(
            user=request.user, actor=request.user, data=uploaded_avatar(request)
        )
        return Response(self.render(user, message="Avatar updated."))

    @extend_schema(
        tags=["users"],
        summary="Remove the caller's avatar",
        request=None,
        responses={200: s.UserSerializer, **error_responses(401, 403)},
    )
    def delete(self, request: Request) -> Response:
        user = avatars.avatar_remove(user=request.user, actor=request.user)
        return Response(self.render(user, message="Avatar removed."))

    def render(self, user: User, message: str) -> dict:
        return s.UserSerializer(user).data
