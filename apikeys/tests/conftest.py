import pytest

from accounts.tests.factories import UserFactory
from apikeys.services import apikey_regenerate_primary


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def key(owner):
    return apikey_regenerate_primary(user=owner, actor=owner).clear
