"""Whose keys a caller sees: one's own, and with the right to change users, theirs."""

from accounts.tests.world import build_world
from apikeys.selectors import api_key_own, api_key_primary, api_keys_visible_to
from apikeys.tests.factories import APIKeyFactory


def test_a_member_sees_only_their_own_keys(db):
    world = build_world()
    own = APIKeyFactory(user=world.member)
    APIKeyFactory(user=world.other_member)

    assert list(api_keys_visible_to(world.member)) == [own]
    assert api_key_own(user=world.member, pk=own.pk) == own
    assert api_key_own(user=world.other_member, pk=own.pk) is None


def test_a_tenant_admin_sees_the_keys_of_their_tenant_only(db):
    world = build_world()
    member_key = APIKeyFactory(user=world.member)
    other_key = APIKeyFactory(user=world.other_member)

    visible = set(api_keys_visible_to(world.users["tenant_admin"]))

    assert member_key in visible and other_key not in visible


def test_the_primary_key_is_the_live_one(db):
    world = build_world()
    APIKeyFactory(user=world.member, is_primary=False)

    assert api_key_primary(world.member) is None
    primary = APIKeyFactory(user=world.member, is_primary=True)
    assert api_key_primary(world.member) == primary
