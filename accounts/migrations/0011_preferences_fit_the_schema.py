"""Stored preferences made to fit the declared schema: unknown keys and values of the
wrong type are removed (each removal recorded in the user's preference history), so
every stored document is one the API would accept. Reversing keeps the cleaned data."""

from django.db import migrations


def fit_stored_preferences(apps, schema_editor):
    from accounts.preferences import preferences_fitting

    User = apps.get_model("accounts", "User")
    PreferenceChange = apps.get_model("accounts", "PreferenceChange")
    changed = User.objects.exclude(preferences={}).only("pk", "preferences").iterator()
    for user in changed:
        fitting = preferences_fitting(user.preferences)
        if fitting == user.preferences:
            continue
        PreferenceChange.objects.create(
            user_id=user.pk,
            actor=None,
            actor_label="migration",
            source="system",
            before=user.preferences,
            after=fitting,
        )
        User.objects.filter(pk=user.pk).update(preferences=fitting)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0010_preference_history")]

    operations = [migrations.RunPython(fit_stored_preferences, migrations.RunPython.noop)]
