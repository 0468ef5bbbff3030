import pytest

from accounts.tests.world import build_world
from apikeys.services import apikey_create
from core.errors import NotFound, ValidationFailed
from support.services import (
    admin_panel_user_update,
    support_api_key_regenerate,
    support_api_key_revoke,
)
from support.tests.helpers import build_staff_world, staff_name


@pytest.mark.django_db
def test_an_admin_panel_update_naming_nothing_is_nothing_to_change():
    world = build_world()

    with pytest.raises(ValidationFailed) as raised:
        admin_panel_user_update(actor=world.users["platform_admin"], user=world.member, profile={})

    assert raised.value.code == "NOTHING_TO_CHANGE"


@pytest.mark.parametrize("change", [support_api_key_revoke, support_api_key_regenerate])
def test_a_key_change_refuses_a_key_of_another_account(db, change):
    """The view finds keys among the user's own; the service holds to it as well."""
    sw = build_staff_world()
    staff = sw.staff[staff_name("advanced", "global")]
    other_key = apikey_create(user=sw.world.other_member, actor=sw.world.other_member, name="k").key

    with pytest.raises(NotFound):
        change(actor=staff, user=sw.world.member, key=other_key)

    other_key.refresh_from_db()
    assert other_key.revoked_at is None
