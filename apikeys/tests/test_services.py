"""The key services under concurrency."""

from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from accounts.tests.factories import UserFactory
from apikeys.models import APIKey
from apikeys.services import apikey_regenerate_primary, digest_of


def test_simultaneous_regenerations_leave_one_live_primary(transactional_db):
    owner = UserFactory()
    apikey_regenerate_primary(user=owner, actor=owner)

    def regenerate(_: int) -> str:
        try:
            return apikey_regenerate_primary(user=owner, actor=owner).clear
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        issued = list(pool.map(regenerate, range(4)))

    live = APIKey.objects.usable().filter(user=owner, is_primary=True)
    assert len(set(issued)) == 4
    assert live.count() == 1
    assert live.get().digest in {digest_of(clear) for clear in issued}
