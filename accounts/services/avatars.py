"""A user's avatar: set, replace and remove it; files leave the storage with it.

The new file is stored before the row names it, and the old one is deleted only once
the change has committed: a rolled-back change leaves the previous avatar served, and
a refused or failed one deletes the file it had stored.
"""

import structlog
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from accounts.auth.request_cache import forget_changed_user
from accounts.authz import rules as authz
from accounts.authz.roles import Permission
from accounts.avatars import (
    avatar_files_delete_on_commit,
    avatar_image_prepare,
    avatar_storage_name,
)
from accounts.models import User
from core.errors import CommonErrorCode, Forbidden
from security.models import ActorKind, AuditAction
from security.services.audit import audit_record

logger = structlog.get_logger(__name__)


def _require_may_change(*, actor: User, user: User) -> None:
    """The owner, or staff holding `write:users` over the account."""
    if actor.pk != user.pk and not authz.can(actor, Permission.WRITE_USERS, user):
        raise Forbidden(
            "You may not change this user's avatar.", code=CommonErrorCode.PERMISSION_DENIED
        )


def _avatar_write(*, user: User, actor: User | None, name: str, action: AuditAction) -> bool:
    """Point the row at `name` ("" for none) with its audit row; False when it
    already did (nothing written)."""
    locked = User.objects.select_for_update().only("pk", "avatar").get(pk=user.pk)
    previous = locked.avatar
    if previous == name:
        user.avatar = name
        return False
    user.avatar = name
    user.save(update_fields=["avatar", "updated_at"])
    forget_changed_user(user, ["avatar"])
    audit_record(
        action=action,
        actor=actor,
        actor_kind=ActorKind.USER if getattr(actor, "pk", None) == user.pk else None,
        target=user,
        changes={"avatar": {"before": bool(previous), "after": bool(name)}},
    )
    avatar_files_delete_on_commit([previous])
    return True


def avatar_set(*, user: User, actor: User, data: bytes) -> User:
    """Give `user` the avatar in `data`, replacing any previous one.

    The image is checked and re-encoded by `accounts.avatars.avatar_image_prepare`
    (413 AVATAR_TOO_LARGE; 400 AVATAR_UNSUPPORTED_TYPE, AVATAR_CORRUPT,
    AVATAR_TOO_MANY_PIXELS) and stored under a fresh random name. Someone else's
    avatar needs `write:users` over them (403 PERMISSION_DENIED).
    """
    _require_may_change(actor=actor, user=user)
    image = avatar_image_prepare(data)
    name = default_storage.save(avatar_storage_name(), ContentFile(image.content))
    try:
        with transaction.atomic():
            _avatar_write(user=user, actor=actor, name=name, action=AuditAction.USER_AVATAR_SET)
    except BaseException:
        default_storage.delete(name)
        raise
    logger.info("avatar_set", user_id=user.pk, source_format=image.source_format)
    return user


@transaction.atomic
def avatar_remove(*, user: User, actor: User) -> User:
    """Remove the avatar of `user`; its file is deleted once this commits. Without an
    avatar nothing changes and nothing is recorded. Someone else's avatar needs
    `write:users` over them (403 PERMISSION_DENIED)."""
    _require_may_change(actor=actor, user=user)
    if _avatar_write(user=user, actor=actor, name="", action=AuditAction.USER_AVATAR_REMOVE):
        logger.info("avatar_removed", user_id=user.pk)
    return user
