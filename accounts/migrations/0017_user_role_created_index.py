from django.db import migrations, models

from core.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    # Indexes on tables that grow large: built concurrently on PostgreSQL.
    atomic = False

    dependencies = [
        ("accounts", "0016_statistics_partial_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="user",
            index=models.Index(fields=["role", "created_at"], name="user_role_created_idx"),
        ),
    ]
