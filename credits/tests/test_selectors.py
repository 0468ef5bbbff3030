"""Whose balance a caller may see: the users they see."""

from accounts.tests.world import build_world
from credits.selectors import credit_accounts_visible_to, credit_owners_visible_to
from credits.tests.factories import CreditAccountFactory


def test_a_tenant_admin_sees_the_balances_of_their_tenant_only(db):
    world = build_world()
    member = CreditAccountFactory(user=world.member)
    other = CreditAccountFactory(user=world.other_member)
    admin = world.users["tenant_admin"]

    assert world.member in credit_owners_visible_to(admin)
    assert world.other_member not in credit_owners_visible_to(admin)
    visible = set(credit_accounts_visible_to(admin))
    assert member in visible and other not in visible
