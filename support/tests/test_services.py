import pytest

from accounts.tests.world import build_world
from core.errors import ValidationFailed
from support.services import admin_panel_user_update


@pytest.mark.django_db
def test_an_admin_panel_update_naming_nothing_is_nothing_to_change():
    world = build_world()

    with pytest.raises(ValidationFailed) as raised:
        admin_panel_user_update(actor=world.users["platform_admin"], user=world.member, profile={})

    assert raised.value.code == "NOTHING_TO_CHANGE"
