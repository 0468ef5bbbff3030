import factory
from django.utils import timezone

from accounts.authz.roles import BuiltinRole
from accounts.models import Role, User

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
