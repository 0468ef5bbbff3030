"""`manage.py seed_demo`: counts, valid references, logins and keys that work, the guards."""

from io import StringIO
from itertools import islice

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from rest_framework.test import APIClient

from accounts.models import LoginSession, Role, User
from accounts.tests.factories import UserFactory
from apikeys.models import APIKey
from core.tests.markers import postgresql_only  # the command writes with COPY
from credits.models import CreditAccount, CreditLedgerEntry
from gateway.tests.helpers import COMPLETIONS, PROMPT, limit_of
from messagelog.models import MessageLog
from security.models import AuditAction, AuditLog
from support.demo_data import loader, rows
from support.demo_data.loader import DEMO_PASSWORD, table_tail
from support.demo_data.rows import COLUMNS, DEMO_USERNAME
from tenants.models import Tenant

SMALL = ["--users", "50", "--messages", "300", "--tenants", "3", "--no-progress"]
CONFIRMED = "--yes-this-is-a-demo-database"


def seed_demo(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def settle_foreign_keys() -> None:
    """Check every deferred foreign key now: the test's transaction never commits."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def reported_rows(output: str) -> dict[str, int]:
    """The per-table row counts the command printed."""
    counts = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[2] == "rows":
            counts[parts[0]] = int(parts[1].replace(",", ""))
    return counts


def test_every_model_column_is_listed_or_has_a_default():
    """A NOT NULL column without any default, added to a model, must be added to COLUMNS."""
    for table in COLUMNS:
        table_tail(table)


def test_a_column_left_out_gets_its_default_or_null_and_a_required_one_stops_the_run(
    monkeypatch,
):
    listed = rows.COLUMNS["users"]
    left_out = ("about_me", "preferences", "purged_at")
    monkeypatch.setitem(
        rows.COLUMNS, "users", tuple(name for name in listed if name not in left_out)
    )

    columns, values = table_tail("users")

    # The three left out, beside any column the rows never name (each with its default).
    assert set(left_out) <= set(columns)
    tail = dict(zip(columns, values, strict=True))
    about_me, preferences, purged_at = (tail[name] for name in left_out)
    assert about_me == ""
    assert getattr(preferences, "obj", preferences) in ({}, "{}")
    assert purged_at is None

    monkeypatch.setitem(rows.COLUMNS, "users", tuple(n for n in listed if n != "created_at"))
    with pytest.raises(loader.DemoRefused, match=r"accounts_user\.created_at needs a value"):
        table_tail("users")


@postgresql_only
def test_seed_demo_writes_the_counts_it_is_asked_for(db):
    output = seed_demo(*SMALL, CONFIRMED)

    assert User.objects.count() == 50
    assert Tenant.objects.count() == 3
    assert Role.objects.filter(tenant__isnull=False).count() == 6
    assert MessageLog.objects.count() == 300
    assert CreditAccount.objects.count() == 50
    assert not User.objects.filter(credit_account__isnull=True).exists()
    logged_in = User.objects.filter(last_login__isnull=False)
    assert LoginSession.objects.count() == 2 * logged_in.count()
    assert not LoginSession.objects.filter(user__last_login__isnull=True).exists()
    assert AuditLog.objects.count() == 50 + logged_in.count()
    assert set(User.objects.values_list("status", flat=True)) <= set(User.Status.values)
    assert reported_rows(output) == {
        "tenants": 3,
        "roles": 6,
        "users": 50,
        "credit_accounts": 50,
        "credit_ledger": CreditLedgerEntry.objects.count(),
        "login_sessions": LoginSession.objects.count(),
        "api_keys": APIKey.objects.count(),
        "audit_log": 50 + logged_in.count(),
        "message_log": 300,
    }


@postgresql_only
def test_seed_demo_rows_point_at_rows_that_exist(db):
    seed_demo(*SMALL, CONFIRMED)

    settle_foreign_keys()
    user_ids = set(User.objects.values_list("id", flat=True))
    assert set(MessageLog.objects.values_list("user_id", flat=True)) <= user_ids
    assert set(AuditLog.objects.values_list("actor_id", flat=True)) <= user_ids
    assert (
        set(CreditLedgerEntry.objects.exclude(actor_id=None).values_list("actor_id", flat=True))
        <= user_ids
    )
    for user in User.objects.exclude(tenant=None).exclude(role__tenant=None):
        assert user.role.tenant_id == user.tenant_id
    session_starts = AuditLog.objects.filter(action=AuditAction.SESSION_START)
    assert {
        int(row.target_id) for row in AuditLog.objects.filter(action=AuditAction.USER_REGISTER)
    } <= user_ids
    session_ids = {str(pk) for pk in LoginSession.objects.values_list("id", flat=True)}
    assert set(session_starts.values_list("target_id", flat=True)) <= session_ids
    first, last = MessageLog.objects.order_by("timestamp").values_list("timestamp", flat=True)[
        ::299
    ]
    assert first < last
    assert MessageLog.objects.values("user_id").distinct().count() > 10


@postgresql_only
def test_a_demo_account_logs_in_with_the_documented_password(db):
    seed_demo(*SMALL, CONFIRMED)
    member = (
        User.objects.filter(status=User.Status.ACTIVE, tenant__is_active=True)
        .exclude(username=DEMO_USERNAME)
        .last()
    )

    for identifier in (DEMO_USERNAME, member.email):
        response = APIClient().post(
            "/api/v1/auth/login", {"email": identifier, "password": DEMO_PASSWORD}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["access_token"]

    refused = APIClient().post(
        "/api/v1/auth/login", {"email": DEMO_USERNAME, "password": "wrong-password"}, format="json"
    )
    assert refused.status_code == 401


@postgresql_only
def test_the_printed_demo_key_authenticates_a_metered_call(db):
    output = seed_demo(*SMALL, CONFIRMED)
    key = output.split("API key ")[1].split(")")[0]
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")
    demo = User.objects.get(username=DEMO_USERNAME)
    before = limit_of(demo)

    completion = client.post(COMPLETIONS, PROMPT, format="json")
    other_last = "A" if key[-1] != "A" else "B"
    forged = APIClient(HTTP_AUTHORIZATION=f"Bearer {key[:-1]}{other_last}").post(
        COMPLETIONS, PROMPT, format="json"
    )

    assert completion.status_code == 200, completion.content
    assert limit_of(demo) == before - 1
    assert forged.status_code == 401
    assert limit_of(demo) == before - 1


def _snapshot() -> dict:
    return {
        "users": list(
            User.objects.order_by("id").values_list(
                "id",
                "username",
                "email",
                "status",
                "tenant_id",
                "role_id",
                "created_at",
                "last_login",
            )
        ),
        "tenants": list(Tenant.objects.order_by("id").values_list("id", "slug", "settings")),
        "keys": sorted(APIKey.objects.values_list("user_id", "digest", "revoked_at")),
        "sessions": sorted(LoginSession.objects.values_list("id", "user_id", "expires_at")),
        "messages": list(
            MessageLog.objects.order_by("id").values_list("id", "user_id", "timestamp", "messages")
        ),
        "audit": sorted(
            AuditLog.objects.values_list("occurred_at", "actor_id", "action", "target_id")
        ),
    }


@postgresql_only
def test_the_same_seed_gives_the_same_data(db):
    fixed = ["--as-of", "2026-01-15T10:00:00+00:00", "--reset", CONFIRMED, *SMALL]
    seed_demo("--seed", "7", *fixed)
    first = _snapshot()
    seed_demo("--seed", "7", *fixed)
    again = _snapshot()
    seed_demo("--seed", "8", *fixed)
    other = _snapshot()

    assert first == again
    assert first["users"][5] != other["users"][5]
    assert first["messages"] != other["messages"]


@postgresql_only
def test_seed_demo_refuses_a_database_with_accounts_unless_told_how(db):
    existing = UserFactory(email="someone@mailbox.org")

    with pytest.raises(CommandError, match="--append"):
        seed_demo(*SMALL, CONFIRMED)
    with pytest.raises(CommandError, match="real email"):
        seed_demo(*SMALL, CONFIRMED, "--reset")
    assert User.objects.count() == 1

    seed_demo(*SMALL, CONFIRMED, "--append")
    seed_demo(*SMALL, CONFIRMED, "--append")
    settle_foreign_keys()

    assert User.objects.count() == 101
    assert User.objects.filter(pk=existing.pk).exists()
    assert User.objects.filter(username=DEMO_USERNAME).count() == 1


@postgresql_only
def test_reset_replaces_a_database_of_demo_accounts(db):
    seed_demo(*SMALL, CONFIRMED)

    seed_demo("--users", "20", "--messages", "10", "--no-progress", CONFIRMED, "--reset")

    assert User.objects.count() == 20
    assert MessageLog.objects.count() == 10
    assert Role.objects.filter(is_builtin=True, tenant=None).count() == 4


@postgresql_only
def test_seed_demo_outside_debug_needs_the_confirmation(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--yes-this-is-a-demo-database"):
        seed_demo(*SMALL)
    assert not User.objects.exists()

    settings.DEBUG = True
    seed_demo(*SMALL)
    assert User.objects.count() == 50


def test_seed_demo_never_fills_a_production_database(db, settings):
    settings.IS_PRODUCTION = True
    settings.DEBUG = True

    with pytest.raises(CommandError, match="production"):
        seed_demo(*SMALL, CONFIRMED)
    assert not User.objects.exists()


def test_seed_demo_refuses_a_database_without_copy(db, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(CommandError, match="PostgreSQL"):
        seed_demo(*SMALL, CONFIRMED)
    assert not User.objects.exists()


def _indexes_and_constraints() -> set[tuple]:
    tables = [model._meta.db_table for model in rows.MODELS.values()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [tables]
        )
        indexes = set(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text = ANY(%s)",
            [tables],
        )
        return indexes | set(cursor.fetchall())


@postgresql_only
def test_a_run_that_fails_half_way_leaves_nothing_and_every_index(db, monkeypatch):
    before = _indexes_and_constraints()
    real_rows = rows.message_rows

    def failing_messages(plan, people):
        yield from islice(real_rows(plan, people), 100)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(
        loader,
        "GENERATORS",
        tuple((t, failing_messages if t == "message_log" else g) for t, g in rows.GENERATORS),
    )

    with pytest.raises(RuntimeError):
        seed_demo(*SMALL, CONFIRMED)

    assert not User.objects.exists()
    assert not Tenant.objects.exists()
    assert not MessageLog.objects.exists()
    assert _indexes_and_constraints() == before
    assert {"messagelog_messagelog_pkey", "messagelog_user_time_idx", "user_email_ci_unique"} <= {
        name for name, _definition in before
    }


@postgresql_only
def test_a_completed_run_keeps_every_index_and_constraint(db):
    before = _indexes_and_constraints()

    seed_demo(*SMALL, CONFIRMED)

    assert _indexes_and_constraints() == before


@postgresql_only
def test_a_row_pointing_at_nothing_stops_the_run(db, monkeypatch):
    real_rows = rows.login_session_rows
    user_column = rows.COLUMNS["login_sessions"].index("user_id")

    def dangling_sessions(plan, people):
        for number, row in enumerate(real_rows(plan, people)):
            if number == 7:
                row = (*row[:user_column], 10**12, *row[user_column + 1 :])
            yield row

    monkeypatch.setattr(
        loader,
        "GENERATORS",
        tuple((t, dangling_sessions if t == "login_sessions" else g) for t, g in rows.GENERATORS),
    )

    with pytest.raises(IntegrityError, match="accounts_loginsession"):
        seed_demo(*SMALL, CONFIRMED)

    assert not User.objects.exists()
    assert not LoginSession.objects.exists()
