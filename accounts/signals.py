"""Keep the per-request user cache honest: any saved or deleted user is re-read."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Role, User
from accounts.sessions import forget_cached_user, user_cache_key


@receiver([post_save, post_delete], sender=User, dispatch_uid="forget_cached_user")
def forget_saved_user(sender, instance: User, **kwargs) -> None:
    forget_cached_user(instance.pk)


@receiver([post_save, post_delete], sender=Role, dispatch_uid="forget_role_members")
def forget_role_members(sender, instance: Role, **kwargs) -> None:
    from django.core.cache import cache

    member_ids = User.objects.filter(role_id=instance.pk).values_list("pk", flat=True)
    cache.delete_many([user_cache_key(pk) for pk in member_ids.iterator()])
