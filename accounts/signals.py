"""Keep the per-request user cache honest: any saved or deleted user is re-read."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Role, User
from accounts.sessions import forget_cached_user, forget_cached_users

# A save of any of these can take rights away: its cached copy must be dropped, or
# the save fails (inside a transaction). Other saves (a login's last_login, a
# profile edit, a password re-hashed on login) must not fail because Redis hiccups,
# so theirs is dropped on a best-effort basis. A password change needs no strict
# drop: the cached row is never used to check a password, and changing a password
# ends the account's sessions, which is strict itself.
_RIGHTS_FIELDS = frozenset(
    {"status", "role", "tenant", "is_staff", "is_superuser", "deleted_at", "purged_at"}
)


@receiver(post_save, sender=User, dispatch_uid="forget_cached_user")
def forget_saved_user(sender, instance: User, created: bool, update_fields, **kwargs) -> None:
    rights_may_change = update_fields is None or not _RIGHTS_FIELDS.isdisjoint(update_fields)
    forget_cached_user(instance.pk, must_succeed=rights_may_change and not created)


@receiver(post_delete, sender=User, dispatch_uid="forget_deleted_user")
def forget_deleted_user(sender, instance: User, **kwargs) -> None:
    forget_cached_user(instance.pk)


@receiver([post_save, post_delete], sender=Role, dispatch_uid="forget_role_members")
def forget_role_members(sender, instance: Role, **kwargs) -> None:
    forget_cached_users(User.objects.filter(role_id=instance.pk).values_list("pk", flat=True))
