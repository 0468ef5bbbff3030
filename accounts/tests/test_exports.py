import pytest

from accounts.api.serializers import UserSerializer
from accounts.exports import profile_row
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_exported_profile_is_the_account_as_get_me_answers_it():
    user = UserFactory(preferences={"theme": "dark"})

    assert profile_row(user) == dict(UserSerializer(user).data)
