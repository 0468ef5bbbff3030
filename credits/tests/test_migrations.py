"""The migration that makes plans data keeps every value users held."""

from core.tests.markers import postgresql_only

# The migrations it passes through add PostgreSQL extensions (pg_trgm).
pytestmark = postgresql_only


def test_plan_migration_keeps_unknown_values_as_inactive_plans_and_empty_as_free(migrate_to):
    before = [("accounts", "0007_created_at_indexes"), ("credits", "0003_ledger_kind_choices")]
    after = [("accounts", "0009_plan_reference_and_billing_email")]
    old_user = migrate_to(before).get_model("accounts", "User")
    gold = old_user.objects.create(username="gold", email="g@example.com", subscription_plan="gold")
    empty = old_user.objects.create(username="empty", email="e@example.com", subscription_plan="")
    premium = old_user.objects.create(
        username="prem", email="p@example.com", subscription_plan="premium"
    )

    state = migrate_to(after)
    user_model, plan_model = state.get_model("accounts", "User"), state.get_model("credits", "Plan")
    plans = {user.pk: user.subscription_plan_id for user in user_model.objects.all()}
    legacy = plan_model.objects.get(code="gold")
    active = set(plan_model.objects.filter(is_active=True).values_list("code", flat=True))

    assert plans == {gold.pk: "gold", empty.pk: "free", premium.pk: "premium"}
    assert legacy.is_active is False and legacy.main_reset is None
    assert active == {"free", "basic", "premium", "enterprise"}
