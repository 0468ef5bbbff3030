from datetime import timedelta

from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts.tests.factories import UserFactory
from oauth.tasks import clear_expired_oauth_tokens
from oauth.tests.factories import ApplicationFactory


def test_clear_expired_oauth_tokens_deletes_only_expired_ones(db):
    application, user = ApplicationFactory(), UserFactory()
    now = timezone.now()
    expired = AccessToken.objects.create(
        user=user, application=application, token="oat-old", expires=now - timedelta(days=1)
    )
    live = AccessToken.objects.create(
        user=user, application=application, token="oat-new", expires=now + timedelta(hours=1)
    )
    clear_expired_oauth_tokens()
    assert not AccessToken.objects.filter(pk=expired.pk).exists()
    assert AccessToken.objects.filter(pk=live.pk).exists()
