"""The migration that makes plans data keeps every value users held."""

import pytest


@pytest.mark.django_db(transaction=True)
def test_plan_migration_keeps_unknown_values_as_inactive_plans_and_empty_as_free():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("accounts", "0007_created_at_indexes"), ("credits", "0003_ledger_kind_choices")]
    after = [("accounts", "0009_plan_reference_and_billing_email")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_user = executor.loader.project_state(before).apps.get_model("accounts", "User")
    gold = old_user.objects.create(username="gold", email="g@example.com", subscription_plan="gold")
    empty = old_user.objects.create(username="empty", email="e@example.com", subscription_plan="")
    premium = old_user.objects.create(
        username="prem", email="p@example.com", subscription_plan="premium"
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    state = executor.loader.project_state(after).apps
    user_model, plan_model = state.get_model("accounts", "User"), state.get_model("credits", "Plan")
    plans = {user.pk: user.subscription_plan_id for user in user_model.objects.all()}
    legacy = plan_model.objects.get(code="gold")
    active = set(plan_model.objects.filter(is_active=True).values_list("code", flat=True))

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert plans == {gold.pk: "gold", empty.pk: "free", premium.pk: "premium"}
    assert legacy.is_active is False and legacy.main_reset is None
    assert active == {"free", "basic", "premium", "enterprise"}
