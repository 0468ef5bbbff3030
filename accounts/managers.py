from django.contrib.auth.base_user import BaseUserManager

from accounts.authz.roles import BuiltinRole


class UserManager(BaseUserManager):
    """Creates accounts for `createsuperuser`, the admin and data migrations.

    The registration API goes through `accounts.services.users.user_register`, which adds
    policy checks; this manager only normalises and saves.
    """

    use_in_migrations = True

    def _create(self, username: str, email: str, password: str | None, **extra):
        if not username:
            raise ValueError("A username is required.")
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(username=username, email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, username: str, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(username, email, password, **extra)

    def create_superuser(self, username: str, email: str, password: str | None = None, **extra):
        role_model = self.model._meta.get_field("role").related_model
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("is_verified", True)
        extra.setdefault(
            "role", role_model.objects.filter(name=BuiltinRole.ADMIN, tenant=None).first()
        )
        if extra["is_staff"] is not True or extra["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create(username, email, password, **extra)
