import secrets

import factory

from accounts.tests.factories import UserFactory
from apikeys.models import APIKey
from apikeys.services import DEFAULT_SCOPES, KEY_PREFIX, digest_of


class APIKeyFactory(factory.django.DjangoModelFactory):
    """A live key; its clear text is `clear` (pass it to know it, it is not stored)."""

    class Meta:
        model = APIKey
        exclude = ("clear",)

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"key {n}")
    clear = factory.LazyFunction(lambda: KEY_PREFIX + secrets.token_urlsafe(24))
    prefix = factory.LazyAttribute(lambda key: key.clear[3:11])
    last4 = factory.LazyAttribute(lambda key: key.clear[-4:])
    digest = factory.LazyAttribute(lambda key: digest_of(key.clear))
    scopes = factory.LazyFunction(lambda: list(DEFAULT_SCOPES))
