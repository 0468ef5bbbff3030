"""AddIndexConcurrently builds the same index as AddIndex, concurrently on
PostgreSQL, and recovers from a failed concurrent build."""

import pytest
from django.apps import apps
from django.db import connection, models
from django.db.migrations.state import ProjectState

from accounts.tests.factories import UserFactory
from core.migration_operations import AddIndexConcurrently, create_index_concurrently_sql

INDEX_NAME = "test_user_status_concurrent_idx"


def _index_definition(name: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid), indisvalid FROM pg_index "
            "JOIN pg_class ON pg_class.oid = indexrelid WHERE relname = %s",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


def _apply(operation, direction: str = "forwards") -> None:
    before = ProjectState.from_apps(apps)
    after = before.clone()
    operation.state_forwards("accounts", after)
    with connection.schema_editor(atomic=False) as editor:
        if direction == "forwards":
            operation.database_forwards("accounts", editor, before, after)
        else:
            operation.database_backwards("accounts", editor, after, before)


def test_create_index_concurrently_sql_keeps_an_index_already_built():
    sql = create_index_concurrently_sql('CREATE INDEX "a_idx" ON "t" ("c")', "a_idx")
    assert sql == 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "a_idx" ON "t" ("c")'
    again = create_index_concurrently_sql('CREATE INDEX CONCURRENTLY "a_idx" ON "t" ("c")', "a_idx")
    assert again == sql
    with pytest.raises(ValueError):
        create_index_concurrently_sql('CREATE UNIQUE INDEX "a_idx" ON "t" ("c")', "a_idx")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="CONCURRENTLY is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_add_index_concurrently_replaces_an_invalid_leftover_and_drops_on_reverse():
    UserFactory(username="one")
    UserFactory(username="two")
    # A failed concurrent build (here: a unique index over duplicate statuses)
    # leaves an INVALID index of the name behind, as a cancelled migrate would.
    unique_statuses = f"CREATE UNIQUE INDEX CONCURRENTLY {INDEX_NAME} ON accounts_user (status)"
    with (
        pytest.raises(Exception, match="could not create unique index"),
        connection.cursor() as cursor,
    ):
        cursor.execute(unique_statuses)
    assert _index_definition(INDEX_NAME)[1] is False

    operation = AddIndexConcurrently(
        model_name="user", index=models.Index(fields=["status"], name=INDEX_NAME)
    )
    try:
        _apply(operation)
        definition, valid = _index_definition(INDEX_NAME)
        assert valid is True
        assert definition.startswith(f"CREATE INDEX {INDEX_NAME} ON public.accounts_user")
        _apply(operation)  # a second run keeps the index it built
        assert _index_definition(INDEX_NAME)[1] is True
        _apply(operation, "backwards")
        assert _index_definition(INDEX_NAME) is None
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


@pytest.mark.django_db(transaction=True)
def test_add_index_concurrently_refuses_a_transaction_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("elsewhere the index is built the ordinary way, in or out of one")
    operation = AddIndexConcurrently(
        model_name="user", index=models.Index(fields=["status"], name=INDEX_NAME)
    )
    before = ProjectState.from_apps(apps)
    after = before.clone()
    operation.state_forwards("accounts", after)
    with (
        pytest.raises(RuntimeError, match="atomic = False"),
        connection.schema_editor(atomic=True) as editor,
    ):
        operation.database_forwards("accounts", editor, before, after)
    assert _index_definition(INDEX_NAME) is None
