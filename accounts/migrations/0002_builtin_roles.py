from django.db import migrations

from accounts.authz.roles import ensure_builtin_roles


def create_builtin_roles(apps, schema_editor):
    ensure_builtin_roles(apps.get_model("accounts", "Role"))


def delete_unused_builtin_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    Role.objects.filter(is_builtin=True, tenant=None, users__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_builtin_roles, delete_unused_builtin_roles)]
