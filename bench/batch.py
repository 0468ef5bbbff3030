"""The set-based jobs against their bare SQL, timed in one process on the demo database.

Called by `bench.prepare` in the benchmark's child environment: wall seconds per
repeat of:

- the daily credit reset (`credits.services.daily_reset`) of every account, against
  one bare `UPDATE` of the same rows and columns. Before each timed statement every
  account is made due again and the table vacuumed (neither timed), so both start
  from the same state;
- the message-log flush (`messagelog.services.flush`, shipped batch size) of
  `--rows` entries queued in Redis, against one `INSERT` per message (each its own
  transaction, as a service writing each conversation as it is answered would) and
  one raw `COPY` of the same number of rows. Every row written here is deleted
  afterwards.
"""

import json
import time
from collections.abc import Callable


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def reset_figures(repeats: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from credits.models import CreditAccount
    from credits.services import daily_reset

    table = connection.ops.quote_name(CreditAccount._meta.db_table)
    day = timezone.now().date()
    bare_sql = (
        f"UPDATE {table} SET conversation_limit = conversation_reset, "  # noqa: S608 - table name
        "main_credits = main_reset, used_today = 0, last_reset_on = %s"
    )

    def make_due() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET last_reset_on = NULL")  # noqa: S608
            cursor.execute(f"VACUUM ANALYZE {table}")

    def bare() -> None:
        with connection.cursor() as cursor:
            cursor.execute(bare_sql, [day])

    service, baseline = [], []
    for _ in range(repeats):
        make_due()
        service.append(_timed(lambda: daily_reset(actor=None, day=day)))
        make_due()
        baseline.append(_timed(bare))
    return {"accounts": CreditAccount.objects.count(), "service": service, "bare": baseline}


def flush_figures(rows: int, repeats: int) -> dict:
    from django.conf import settings
    from django.db import connection, transaction
    from psycopg.types.json import Jsonb

    from accounts.models import User
    from messagelog import store
    from messagelog.models import MessageLog
    from messagelog.queue import message_queue
    from messagelog.services import Conversation, _entry, flush

    user = User.objects.order_by("pk").first()
    conversation = Conversation(
        user_id=user.pk,
        username=user.username,
        email=user.email,
        model=settings.LLM_DEFAULT_MODEL,
        request_messages=[{"role": "user", "content": "Hello, how long is the warranty?"}],
        response_message={"role": "assistant", "content": "Echo: Hello, two years."},
        research_enabled=False,
        r_type="bpe",
        tokens_used=12,
        processing_time_ms=40,
        ip_address="127.0.0.1",
    )
    meta = MessageLog._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in store.FIELDS)
    insert_sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 - names from the model
        f"VALUES ({', '.join(['%s'] * len(store.FIELDS))})"
    )
    copy_sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    written: list = []

    def fresh_rows() -> list[list]:
        made = [store.row_from(_entry(conversation)) for _ in range(rows)]
        written.extend(row["id"] for row in made)
        return [
            [Jsonb(row[name]) if name == "messages" else row[name] for name in store.FIELDS]
            for row in made
        ]

    def queue_entries() -> None:
        entries = [_entry(conversation) for _ in range(rows)]
        written.extend(entry["id"] for entry in entries)
        raws = [json.dumps(entry, separators=(",", ":")).encode() for entry in entries]
        message_queue().push(raws, max_size=rows * 2)

    def one_insert_each(values: list[list]) -> None:
        with connection.cursor() as cursor:
            for row in values:
                cursor.execute(insert_sql, row)

    def raw_copy(values: list[list]) -> None:
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy(copy_sql) as copy,
        ):
            for row in values:
                copy.write_row(row)

    flushed, inserts, copies = [], [], []
    try:
        for _ in range(repeats):
            flush(actor=None)  # nothing left from before
            queue_entries()
            flushed.append(_timed(lambda: flush(actor=None)))
            values = fresh_rows()
            inserts.append(_timed(lambda values=values: one_insert_each(values)))
            values = fresh_rows()
            copies.append(_timed(lambda values=values: raw_copy(values)))
    finally:
        for start in range(0, len(written), 5000):
            MessageLog.objects.filter(pk__in=written[start : start + 5000])._raw_delete("default")
    return {
        "rows": rows,
        "batch_size": settings.MESSAGE_BATCH_SIZE,
        "flush": flushed,
        "insert_each": inserts,
        "copy": copies,
    }
