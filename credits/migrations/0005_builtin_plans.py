"""The built-in plans, and a plan for every value users already hold, so that
`User.subscription_plan` can become a reference to a plan without losing a value.

A value that names no built-in plan (typed freely before plans were data) becomes an
inactive plan of that code with the defaults' amounts: its users keep it, nobody new
gets it, and staff see it in the admin to rename, give amounts to, or move users off.
An empty value becomes the free plan.
"""

from django.db import migrations

from credits.plans import DEFAULT_PLAN_CODE, ensure_builtin_plans


def plans_create(apps, schema_editor):
    plan_model = apps.get_model("credits", "Plan")
    user_model = apps.get_model("accounts", "User")
    ensure_builtin_plans(plan_model)
    user_model.objects.filter(subscription_plan="").update(subscription_plan=DEFAULT_PLAN_CODE)
    known = set(plan_model.objects.values_list("code", flat=True))
    held = set(user_model.objects.values_list("subscription_plan", flat=True).distinct())
    for position, code in enumerate(sorted(held - known), start=1000):
        plan_model.objects.create(
            code=code,
            name=code,
            description="Held by users before plans were data; inactive.",
            is_active=False,
            position=position,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0004_plans"),
        ("accounts", "0007_created_at_indexes"),
    ]

    # Reversed, the rows stay: the column they back goes back to free text first.
    operations = [migrations.RunPython(plans_create, migrations.RunPython.noop)]
