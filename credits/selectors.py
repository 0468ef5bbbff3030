"""Reads of balances: whose balance a caller may see."""

from django.db.models import QuerySet

from accounts.models import User
from accounts.selectors import users_visible_to
from credits.models import CreditAccount


def credit_owners_visible_to(actor: User) -> QuerySet[User]:
    """The users whose balance the actor may look up (and ask to change): those they see."""
    return users_visible_to(actor)


def credit_accounts_visible_to(actor: User) -> QuerySet[CreditAccount]:
    """The credit accounts of the users the actor sees."""
    return CreditAccount.objects.filter(user__in=credit_owners_visible_to(actor))
