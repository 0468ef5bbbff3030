"""Writing a batch of queued conversations: COPY on PostgreSQL, a multi-row INSERT elsewhere;
deleting expired ones a bounded batch per statement.

Rows carry the ids made at enqueue. The fast path (COPY) refuses a batch holding an id
that is already stored, which only happens when a flusher died after its commit; that
batch is then written with INSERT … ON CONFLICT DO NOTHING, so nothing is stored twice.
"""

import json
import uuid
from datetime import datetime
from typing import Any

from django.db import DataError, IntegrityError, connection, transaction
from django.utils.dateparse import parse_datetime
from psycopg.types.json import Jsonb

from messagelog.models import MessageLog

FIELDS = (
    "id",
    "timestamp",
    "user_id",
    "username",
    "email",
    "model",
    "messages",
    "research_enabled",
    "r_type",
    "tokens_used",
    "processing_time_ms",
    "ip_address",
)
_MESSAGES = FIELDS.index("messages")
_WRITE_ERRORS = (DataError, IntegrityError)


def decode(raw: bytes) -> dict[str, Any]:
    """One queued entry as column values; ValueError, KeyError or TypeError if malformed."""
    return row_from(json.loads(raw))


def row_from(entry: dict[str, Any]) -> dict[str, Any]:
    row = {name: entry[name] for name in FIELDS}
    row["id"] = uuid.UUID(row["id"])
    row["timestamp"] = parse_datetime(row["timestamp"])
    if row["timestamp"] is None:
        raise ValueError("an entry without a valid timestamp")
    return row


def store(rows: list[dict[str, Any]]) -> list[int]:
    """Write the rows in one transaction if possible; the positions of rows refused."""
    for write in (_copy, _insert_skipping_stored):
        try:
            with transaction.atomic():
                write(rows)
            return []
        except _WRITE_ERRORS:
            continue
    # One bad row must not hold back the others: write them one by one.
    refused = []
    for position, row in enumerate(rows):
        try:
            with transaction.atomic():
                _insert_skipping_stored([row])
        except _WRITE_ERRORS:
            refused.append(position)
    return refused


def _insert_skipping_stored(rows: list[dict[str, Any]]) -> None:
    MessageLog.objects.bulk_create([MessageLog(**row) for row in rows], ignore_conflicts=True)


def _copy(rows: list[dict[str, Any]]) -> None:
    if connection.vendor != "postgresql":
        _insert_skipping_stored(rows)
        return
    meta = MessageLog._meta
    columns = ", ".join(connection.ops.quote_name(meta.get_field(name).column) for name in FIELDS)
    sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
    # The driver's own COPY; wrap_database_errors gives its errors Django's classes.
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(sql) as copy,
    ):
        for row in rows:
            values = [row[name] for name in FIELDS]
            values[_MESSAGES] = Jsonb(values[_MESSAGES])
            copy.write_row(values)


def delete_older_than(cutoff: datetime, *, limit: int) -> int:
    """Delete at most `limit` rows logged before `cutoff`, in one statement that commits
    on its own; how many it deleted.

    On PostgreSQL the rows are picked by their physical address (ctid), found through
    the time indexes, so the statement touches only those rows and no PRIMARY KEY probe
    per row; elsewhere by id. Either way no statement holds locks on more than `limit`
    rows, however much is expired.
    """
    table = connection.ops.quote_name(MessageLog._meta.db_table)
    column = connection.ops.quote_name(MessageLog._meta.get_field("timestamp").column)
    cutoff = connection.ops.adapt_datetimefield_value(cutoff)
    if connection.vendor == "postgresql":
        sql = (
            f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("  # noqa: S608 - the model's own table; values are parameters
            f"SELECT ctid FROM {table} WHERE {column} < %s LIMIT %s)) AND {column} < %s"
        )
        params = [cutoff, limit, cutoff]
    else:
        sql = (
            f"DELETE FROM {table} WHERE id IN ("  # noqa: S608 - the model's own table; values are parameters
            f"SELECT id FROM {table} WHERE {column} < %s LIMIT %s)"
        )
        params = [cutoff, limit]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
