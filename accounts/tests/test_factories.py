import pytest

from accounts.models import LoginSession, MfaChallenge, Role
from accounts.tests.factories import LoginSessionFactory, MfaChallengeFactory, RoleFactory

pytestmark = pytest.mark.django_db


def test_each_factory_saves_a_valid_row():
    role = RoleFactory()
    session = LoginSessionFactory()
    challenge = MfaChallengeFactory()

    assert Role.objects.get(pk=role.pk).is_builtin is False
    assert LoginSession.objects.get(pk=session.pk).is_active_at(session.created_at)
    assert MfaChallenge.objects.get(pk=challenge.pk).identifier == challenge.user.email
