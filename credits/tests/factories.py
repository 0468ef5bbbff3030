import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from credits.models import CreditAccount, CreditLedgerEntry, CreditResetRun, Plan, PlanChange


class CreditAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditAccount
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    main_credits = 10
    main_reset = 10
    conversation_limit = 10
    conversation_reset = 10
    last_reset_on = factory.LazyFunction(lambda: timezone.now().date())


class CreditLedgerEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditLedgerEntry

    account = factory.SubFactory(CreditAccountFactory)
    kind = CreditLedgerEntry.Kind.STAFF_CHANGE
    reason = ""
    before = factory.LazyFunction(dict)
    after = factory.LazyFunction(dict)


class CreditResetRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditResetRun
        django_get_or_create = ("day",)

    day = factory.LazyFunction(lambda: timezone.now().date())


class PlanFactory(factory.django.DjangoModelFactory):
    """A plan of its own (the built-in ones exist already: look them up by code)."""

    class Meta:
        model = Plan

    code = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.LazyAttribute(lambda plan: plan.code.title())
    main_reset = 100
    conversation_reset = 100
    is_active = True
    position = 100


class PlanChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanChange

    user = factory.SubFactory(UserFactory)
    from_plan = "free"
    to_plan = "basic"
    reason = ""
