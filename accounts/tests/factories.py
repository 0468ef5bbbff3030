"""factory_boy factories for every accounts model."""

import hashlib
import secrets
import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from accounts.authz.roles import BuiltinRole, Permission
from accounts.models import LoginSession, MfaChallenge, PreferenceChange, Role, User

DEFAULT_PASSWORD = "SecurePass123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    name = factory.Faker("name")
    status = User.Status.ACTIVE
    is_verified = True
    password_changed_at = factory.LazyFunction(timezone.now)
    role = factory.LazyFunction(
        lambda: Role.objects.filter(name=BuiltinRole.USER, tenant__isnull=True).first()
    )

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs) -> None:
        self.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            self.save(update_fields=["password"])


class RoleFactory(factory.django.DjangoModelFactory):
    """A custom role (built-in ones exist already: look them up by name)."""

    class Meta:
        model = Role

    name = factory.Sequence(lambda n: f"role-{n}")
    description = ""
    tenant = None
    permissions = factory.LazyFunction(lambda: [str(Permission.READ_SELF)])
    is_builtin = False


class LoginSessionFactory(factory.django.DjangoModelFactory):
    """A live login session row (no tokens: log in through the API for those)."""

    class Meta:
        model = LoginSession

    user = factory.SubFactory(UserFactory)
    ip_address = "203.0.113.7"
    user_agent = "factory"
    refresh_jti = factory.LazyFunction(lambda: uuid.uuid4().hex)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


class MfaChallengeFactory(factory.django.DjangoModelFactory):
    """A pending code step of a login; `token` (not stored) is the clear token."""

    class Meta:
        model = MfaChallenge
        exclude = ("token",)

    token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))
    token_digest = factory.LazyAttribute(lambda o: hashlib.sha256(o.token.encode()).hexdigest())
    user = factory.SubFactory(UserFactory)
    identifier = factory.LazyAttribute(lambda o: o.user.email)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=5))


class PreferenceChangeFactory(factory.django.DjangoModelFactory):
    """A history row of a user's own change of theme."""

    class Meta:
        model = PreferenceChange

    user = factory.SubFactory(UserFactory)
    actor = factory.SelfAttribute("user")
    actor_label = factory.SelfAttribute("user.username")
    source = PreferenceChange.Source.SELF
    before = factory.LazyFunction(dict)
    after = factory.LazyFunction(lambda: {"theme": "dark"})
