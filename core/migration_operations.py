"""Migration operations for indexes on tables that may hold millions of rows.

A plain `CREATE INDEX` holds a lock that blocks every write to the table until the
build ends (a minute and more at a million users). On PostgreSQL these operations
build the index `CONCURRENTLY`: writes go on, the build reads the table twice and
waits for the transactions open when it started. That cannot run inside a
transaction, so a migration using them sets `atomic = False`.

A concurrent build that fails (a deadlock, a cancelled `migrate`) leaves an INVALID
index of that name behind; running the migration again drops it and builds anew,
and an index already built (say by an operator ahead of the upgrade) is kept. Other
databases (SQLite, the embedded default) build the index the ordinary way.
"""

from django.db import migrations


def _is_postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def drop_invalid_index(schema_editor, name: str) -> None:
    """Drop `name` if a failed concurrent build left it INVALID (PostgreSQL)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid "
            "WHERE pg_class.relname = %s AND NOT pg_index.indisvalid",
            [name],
        )
        invalid = cursor.fetchone() is not None
    if invalid:
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


def create_index_concurrently_sql(sql: str, name: str) -> str:
    """`sql` (a `CREATE INDEX <name> ...` statement) built concurrently, kept if built."""
    prefix = "CREATE INDEX "
    if not sql.startswith(prefix):
        raise ValueError(f"not a CREATE INDEX statement: {sql}")
    if "CONCURRENTLY" not in sql.split(name, 1)[0]:
        sql = f"CREATE INDEX CONCURRENTLY {sql[len(prefix) :]}"
    return sql.replace("CREATE INDEX CONCURRENTLY ", "CREATE INDEX CONCURRENTLY IF NOT EXISTS ", 1)


class AddIndexConcurrently(migrations.AddIndex):
    """`AddIndex`, built CONCURRENTLY on PostgreSQL (in a migration with
    `atomic = False`); the same index, the ordinary way, elsewhere. The schema it
    leaves is exactly AddIndex's."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if not _is_postgresql(schema_editor):
            schema_editor.add_index(model, self.index)
            return
        if schema_editor.connection.in_atomic_block:
            raise RuntimeError(
                "AddIndexConcurrently runs in a migration with `atomic = False` "
                "(CREATE INDEX CONCURRENTLY cannot run in a transaction)."
            )
        drop_invalid_index(schema_editor, self.index.name)
        statement = self.index.create_sql(model, schema_editor, concurrently=True)
        schema_editor.execute(create_index_concurrently_sql(str(statement), self.index.name))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if _is_postgresql(schema_editor) and not schema_editor.connection.in_atomic_block:
            schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{self.index.name}"')
            return
        schema_editor.remove_index(model, self.index)

    def describe(self):
        return f"{super().describe()} (concurrently on PostgreSQL)"
