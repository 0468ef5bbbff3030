import uuid

import factory
from django.utils import timezone
from oauth2_provider.models import Grant

from accounts.tests.factories import LoginSessionFactory, UserFactory
from oauth.models import Application, GrantSession, SocialAccount, TokenFamilySession


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    name = factory.Sequence(lambda n: f"client {n}")
    client_type = Application.CLIENT_CONFIDENTIAL
    authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    redirect_uris = "https://client.example/callback"
    algorithm = Application.RS256_ALGORITHM


class GrantSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GrantSession

    login_session = factory.SubFactory(LoginSessionFactory)
    grant = factory.LazyAttribute(
        lambda link: Grant.objects.create(
            user=link.login_session.user,
            application=ApplicationFactory(),
            code=uuid.uuid4().hex,
            expires=timezone.now() + timezone.timedelta(minutes=1),
            redirect_uri="https://client.example/callback",
        )
    )


class TokenFamilySessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TokenFamilySession

    login_session = factory.SubFactory(LoginSessionFactory)


class SocialAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialAccount

    provider = "acme-id"
    subject = factory.Sequence(lambda n: f"subject-{n}")
    user = factory.SubFactory(UserFactory)
