"""Filling a demo database: the guards, the id reservations, one COPY stream per table.

Everything is written in one transaction, so a run that fails or is interrupted
leaves the database as it was. The rows go through every constraint and trigger the
schema has; only into an empty table are its keys, indexes and foreign keys made
again after its rows rather than kept up to date row by row, inside that same
transaction.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max, Model, Q
from django.db.models.fields import AutoFieldMixin

from accounts.authz.roles import ensure_builtin_roles
from accounts.models import Role, User
from support.demo_data.rows import (
    COLUMNS,
    DEMO_ADMIN_EMAIL,
    DEMO_ADMIN_USERNAME,
    DEMO_EMAIL,
    DEMO_USERNAME,
    GENERATORS,
    MODELS,
    ROLES_PER_TENANT,
    SESSIONS_PER_USER,
    People,
    Plan,
    api_key_clear,
)

# The password every demo account logs in with; one hash of it is shared by all of them.
DEMO_PASSWORD = "DemoPass-2024"  # noqa: S105 - documented on purpose, demo databases only

# Addresses that cannot belong to anyone (RFC 2606): a database holding only these
# may be wiped by --reset.
RESERVED_EMAIL_SUFFIXES = ("@example.com", "@example.org", "@example.net", ".example")

# Explicit ids, reserved up front, for the tables other rows point at.
_TABLES_WITH_RESERVED_IDS = ("tenants", "roles", "users", "credit_accounts")


class DemoRefused(Exception):
    """The database or the settings are not ones the command may fill."""


@dataclass(frozen=True)
class Options:
    users: int
    messages: int
    tenants: int
    seed: int
    batch_size: int
    as_of: datetime  # the moment the data ends at: nothing is dated later
    reset: bool
    append: bool
    confirmed: bool


@dataclass
class TableResult:
    table: str
    rows: int
    seconds: float


@dataclass
class Outcome:
    plan: Plan
    tables: list[TableResult]
    analyze_seconds: float
    demo_key: str | None


def _has_real_accounts() -> bool:
    reserved = Q()
    for suffix in RESERVED_EMAIL_SUFFIXES:
        reserved |= Q(email__iendswith=suffix)
    return User.objects.exclude(reserved).exists()


def check_allowed(options: Options) -> None:
    """Raise DemoRefused unless this database may receive demo data.

    Never with ENVIRONMENT=production; outside DEBUG only with the explicit
    confirmation; PostgreSQL only (the rows go in with COPY); into a database that already
    has accounts only with --append, or --reset when every account there has a
    reserved (RFC 2606) address, i.e. holds no real person.
    """
    if settings.IS_PRODUCTION:
        raise DemoRefused("ENVIRONMENT is 'production': demo data never goes there.")
    if not settings.DEBUG and not options.confirmed:
        raise DemoRefused(
            "DEBUG is off, so this may be a real deployment: pass "
            "--yes-this-is-a-demo-database to fill it anyway."
        )
    if connection.vendor != "postgresql":
        raise DemoRefused(
            "Demo data is written with PostgreSQL's COPY: set DATABASE_URL to a PostgreSQL "
            f"database (this one is {connection.vendor})."
        )
    if options.reset and options.append:
        raise DemoRefused("Choose one of --reset and --append.")
    if options.reset:
        if _has_real_accounts():
            raise DemoRefused(
                "--reset empties the account tables, and this database has accounts with real "
                "email addresses (not example.com/.org/.net or *.example): refused."
            )
    elif not options.append and User.objects.exists():
        raise DemoRefused(
            "The database already has accounts: pass --append to add demo data beside them, "
            "or --reset to replace them (only when they are all demo accounts)."
        )


def _table(name: str) -> str:
    return connection.ops.quote_name(MODELS[name]._meta.db_table)


def _reset() -> None:
    """Empty the tables the command fills (and what points at them), ids restarted."""
    tables = ", ".join(_table(name) for name in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def _reserve_ids(name: str, count: int) -> int:
    """The first of `count` consecutive ids no other writer will be given."""
    model: type[Model] = MODELS[name]
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT nextval(%s)", [sequence])
        (first,) = cursor.fetchone()
        highest = model.objects.aggregate(top=Max("id"))["top"] or 0
        first = max(first, highest + 1)
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + max(count, 1) - 1])
    return first


def table_tail(name: str) -> tuple[list[str], tuple]:
    """The model's columns that COLUMNS leaves out, with the value each row gets.

    A database default is left to the database; otherwise what the ORM stores for a
    field left out of `Model()`: its default (one value for every row), "" for a blank
    text field, NULL for a nullable one. A NOT NULL column with none of these cannot
    be filled.
    """
    model = MODELS[name]
    listed = set(COLUMNS[name])
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.attname in listed or isinstance(field, AutoFieldMixin) or field.has_db_default():
            continue
        value = field.get_default()
        if value is None and not field.null:
            raise DemoRefused(
                f"{model._meta.db_table}.{field.column} needs a value: add it to "
                f"COLUMNS['{name}'] and to the rows in support/demo_data/rows.py."
            )
        value = field.get_db_prep_save(value, connection)
        columns.append(field.column)
        values.append(value)
    return columns, tuple(values)


@dataclass(frozen=True)
class _Index:
    name: str
    definition: str
    is_constraint: bool  # a primary key, UNIQUE or FOREIGN KEY constraint, else an index


def _rebuildable_indexes(name: str) -> list[_Index]:
    """What the table's rows are checked against and no other table relies on: its
    plain and unique indexes, its foreign keys, and its primary key and unique
    constraints unless another table's foreign key points at them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT index_class.relname, pg_get_indexdef(index.indexrelid), NULL
            FROM pg_index AS index
            JOIN pg_class AS index_class ON index_class.oid = index.indexrelid
            WHERE index.indrelid = %(table)s::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = index.indexrelid)
            UNION ALL
            SELECT owned.conname, pg_get_constraintdef(owned.oid), owned.contype
            FROM pg_constraint AS owned
            WHERE owned.conrelid = %(table)s::regclass
              AND owned.contype IN ('p', 'u', 'f')
              AND NOT EXISTS (
                  SELECT 1 FROM pg_constraint AS referring
                  WHERE referring.contype = 'f' AND referring.conindid = owned.conindid
              )
            """,
            {"table": MODELS[name]._meta.db_table},
        )
        return [_Index(row[0], row[1], row[2] is not None) for row in cursor.fetchall()]


def _is_empty(name: str) -> bool:
    return not MODELS[name].objects.exists()


def _copy_into(
    name: str, rows: Iterator[tuple], batch_size: int, progress: Callable[[int], None]
) -> int:
    """COPY the rows; into an empty table, its keys, indexes and foreign keys are made
    again once at the end instead of being kept up to date row by row.

    Building an index over the loaded rows costs far less than updating it per row (a
    random UUID key touches a random page per row), and adding a foreign key checks
    every row in one join instead of one query per row. They are dropped and made
    again inside the run's transaction, so a run that fails leaves them as they were,
    and a duplicate key or a dangling reference still stops the run when they are made.
    """
    indexes = _rebuildable_indexes(name) if _is_empty(name) else []
    table = _table(name)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for index in indexes:
            if index.is_constraint:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(index.name)}")
            else:
                cursor.execute(f"DROP INDEX {quote(index.name)}")
    written = _copy(name, rows, batch_size, progress)
    with connection.cursor() as cursor:
        for index in sorted(indexes, key=lambda index: not index.is_constraint):
            if index.is_constraint:
                cursor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {quote(index.name)} {index.definition}"
                )
            else:
                cursor.execute(index.definition)
    return written


def _copy(
    name: str, rows: Iterator[tuple], batch_size: int, progress: Callable[[int], None]
) -> int:
    model = MODELS[name]
    tail_columns, tail = table_tail(name)
    columns = [model._meta.get_field(field).column for field in COLUMNS[name]] + tail_columns
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    sql = f"COPY {_table(name)} ({quoted}) FROM STDIN"
    written = 0
    with connection.cursor() as cursor, connection.wrap_database_errors:
        while True:
            chunk = list(islice(rows, batch_size))
            if not chunk:
                return written
            with cursor.cursor.copy(sql) as copy:
                write = copy.write_row
                for row in chunk:
                    write(row + tail)
            written += len(chunk)
            progress(len(chunk))


def expected_rows(plan: Plan) -> dict[str, int]:
    """Rough sizes for the progress bars (exact for tenants, roles, users, messages)."""
    users = plan.users
    return {
        "tenants": plan.tenants,
        "roles": plan.tenants * ROLES_PER_TENANT,
        "users": users,
        "credit_accounts": users,
        "credit_ledger": int(users * 0.15),
        "login_sessions": int(users * 0.97 * SESSIONS_PER_USER),
        "api_keys": int(users * 0.97 * 0.75),
        "audit_log": int(users * 1.97),
        "message_log": plan.messages,
    }


def fill(
    options: Options,
    progress_for: Callable[[str, int], Callable[[int], None]],
    finish: Callable[[str], None] = lambda table: None,
) -> Outcome:
    """Write the demo data in one transaction, then ANALYZE what was written."""
    check_allowed(options)
    for name in COLUMNS:
        table_tail(name)  # refuse before writing anything
    password_hash = make_password(DEMO_PASSWORD)
    results = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Foreign keys are checked as each statement ends, not at commit: a table
            # with checks still pending can be neither truncated, indexed nor altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if options.reset:
            _reset()
        with connection.cursor() as cursor:
            tables = ", ".join(_table(name) for name in COLUMNS)
            cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
            # Index builds at the end of a table sort in memory rather than on disk.
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        ensure_builtin_roles(Role)
        plan = _plan(options, password_hash)
        people = People(plan)
        sizes = expected_rows(plan)
        for name, generator in GENERATORS:
            started = time.perf_counter()
            written = _copy_into(
                name, generator(plan, people), options.batch_size, progress_for(name, sizes[name])
            )
            finish(name)
            results.append(TableResult(name, written, time.perf_counter() - started))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for name in COLUMNS:
            cursor.execute(f"ANALYZE {_table(name)}")
    demo_key = api_key_clear(plan, plan.user_id(0), 0) if plan.demo_accounts else None
    return Outcome(plan, results, time.perf_counter() - started, demo_key)


def _plan(options: Options, password_hash: str) -> Plan:
    demo_taken = User.objects.filter(
        Q(username__iexact=DEMO_USERNAME)
        | Q(username__iexact=DEMO_ADMIN_USERNAME)
        | Q(email__iexact=DEMO_EMAIL)
        | Q(email__iexact=DEMO_ADMIN_EMAIL)
    ).exists()
    counts = {
        "tenants": options.tenants,
        "roles": options.tenants * ROLES_PER_TENANT,
        "users": options.users,
        "credit_accounts": options.users,
    }
    bases = {name: _reserve_ids(name, counts[name]) for name in _TABLES_WITH_RESERVED_IDS}
    return Plan(
        seed=options.seed,
        users=options.users,
        messages=options.messages,
        tenants=options.tenants,
        as_of=options.as_of,
        user_base=bases["users"],
        tenant_base=bases["tenants"],
        role_base=bases["roles"],
        account_base=bases["credit_accounts"],
        builtin_role_ids=dict(
            Role.objects.filter(is_builtin=True, tenant=None).values_list("name", "id")
        ),
        password_hash=password_hash,
        demo_accounts=not demo_taken,
        default_credits=settings.DEFAULT_USER_CREDITS,
        default_limits=settings.DEFAULT_USER_LIMITS,
    )
