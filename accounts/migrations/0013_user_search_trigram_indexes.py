"""Trigram indexes for the admin's user search, on PostgreSQL only.

The admin searches `username`, `email`, `name`, `first_name` and `last_name` for a
part of a word; Django writes that as `UPPER(col::text) LIKE UPPER('%term%')`, which
these GIN indexes on the same expression serve. SQLite has no pg_trgm: nothing there.
Built CONCURRENTLY (outside a transaction), so a large user table keeps taking writes;
an INVALID index left by a failed build is dropped and built again.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from core.migration_operations import create_index_concurrently_sql, drop_invalid_index

SEARCHED_COLUMNS = ("username", "email", "name", "first_name", "last_name")


def _index_name(column: str) -> str:
    return f"user_{column}_trgm_idx"


def create_trigram_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED_COLUMNS:
        name = _index_name(column)
        drop_invalid_index(schema_editor, name)
        schema_editor.execute(
            create_index_concurrently_sql(
                f"CREATE INDEX {name} ON accounts_user "
                f"USING gin (UPPER({column}::text) gin_trgm_ops)",
                name,
            )
        )


def drop_trigram_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_index_name(column)}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0012_list_filter_and_order_indexes"),
    ]

    operations = [
        # Django's CreateExtension does nothing off PostgreSQL.
        TrigramExtension(),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
