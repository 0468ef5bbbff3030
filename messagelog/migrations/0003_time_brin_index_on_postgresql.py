"""A BRIN index on the log's time, on PostgreSQL only (docs/message-log.md).

Rows arrive roughly in time order, so each range of table pages covers a narrow span
of time, and a BRIN index (a few kilobytes per gigabyte of table, next to nothing per
insert) lets the retention purge and time-range scans read only the pages of the
range asked for. `minmax_multi` keeps several intervals per page range, so the space
a purge frees, refilled by new rows, does not widen every range to "all of time".
Built CONCURRENTLY (outside a transaction), so a large log keeps taking writes.
SQLite has no BRIN: there the migration does nothing and the btree on `timestamp`
serves the same queries. The index is not in the model's state: Django's BrinIndex
in Meta.indexes would be created on SQLite too, and fail.
"""

from django.db import migrations

INDEX = "messagelog_time_brin"
TABLE = "messagelog_messagelog"


def create_brin(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON {TABLE} USING brin '
        '("timestamp" timestamptz_minmax_multi_ops) '
        "WITH (pages_per_range = 32, autosummarize = on)"
    )


def drop_brin(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("messagelog", "0002_user_id_served_by_the_user_time_index"),
    ]

    operations = [
        migrations.RunPython(create_brin, drop_brin, elidable=False),
    ]
