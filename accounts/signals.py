"""Keep the per-request user cache honest: any saved or deleted user is re-read."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Role, User
from accounts.sessions import forget_cached_user, forget_cached_users


@receiver([post_save, post_delete], sender=User, dispatch_uid="forget_cached_user")
def forget_saved_user(sender, instance: User, **kwargs) -> None:
    forget_cached_user(instance.pk)


@receiver([post_save, post_delete], sender=Role, dispatch_uid="forget_role_members")
def forget_role_members(sender, instance: Role, **kwargs) -> None:
    forget_cached_users(User.objects.filter(role_id=instance.pk).values_list("pk", flat=True))
