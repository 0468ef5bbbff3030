"""`manage.py create_admin` and its wrapper `scripts/create_admin.py`."""

import io
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import LoginSession, User
from accounts.tests.factories import LoginSessionFactory, UserFactory
from accounts.tests.world import builtin
from conftest import BASE_DIR, database_url_for
from credits.models import CreditAccount
from security.models import ActorKind, AuditAction, AuditLog
from security.tests.helpers import audit_row
from tenants.models import Tenant

PASSWORD = "AdminPass123"
SCRIPTED = ["--username", "ops", "--email", "ops@example.com", "--name", "Operator"]


def run(*args, password: str = PASSWORD) -> str:
    out = io.StringIO()
    call_command(
        "create_admin",
        *args,
        "--password-stdin",
        stdin=io.StringIO(password + "\n"),
        stdout=out,
    )
    return out.getvalue()


def test_a_scripted_run_creates_a_platform_admin(db):
    output = run(*SCRIPTED)

    assert "Created admin ops" in output
    admin = User.objects.get(username="ops")
    assert admin.is_platform_admin and admin.is_staff and not admin.is_superuser
    assert admin.is_active and admin.is_verified and admin.tenant_id is None
    assert admin.role_name == "admin" and admin.name == "Operator"
    assert admin.check_password(PASSWORD)
    assert CreditAccount.objects.filter(user=admin).exists()
    row = audit_row(action=AuditAction.PLATFORM_ADMIN_CREATE, target_id=str(admin.pk))
    assert row.actor_kind == ActorKind.SYSTEM and row.actor_id is None


def test_super_admin_flag(db):
    run(*SCRIPTED, "--super-admin")

    assert User.objects.get(username="ops").is_superuser


def test_an_interactive_run_asks_for_everything(db, monkeypatch):
    answers = iter(["ops", "ops@example.com", "Operator"])
    passwords = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(passwords))
    out = io.StringIO()

    call_command("create_admin", stdout=out)

    assert User.objects.get(username="ops").is_platform_admin
    assert "Created admin ops" in out.getvalue()


def test_an_interactive_run_refuses_passwords_that_differ(db, monkeypatch):
    answers = iter(["ops", "ops@example.com", "Operator"])
    passwords = iter([PASSWORD, "AdminPass124"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(passwords))

    with pytest.raises(CommandError, match="do not match"):
        call_command("create_admin", stdout=io.StringIO())

    assert not User.objects.filter(username="ops").exists()


@pytest.mark.parametrize("weak", ["short1A", "alllowercase1", "NoDigitsHere"])
def test_a_weak_password_is_refused(db, weak):
    with pytest.raises(CommandError, match="password policy"):
        run(*SCRIPTED, password=weak)

    assert not User.objects.filter(username="ops").exists()


@pytest.mark.parametrize("username", ["ops@corp.example", "op", "o p s", "ops!"])
def test_a_username_the_api_would_refuse_is_refused(db, username):
    """A name holding "@" would be read as an email at login: another account's."""
    UserFactory(username="someone", email="ops@corp.example")

    with pytest.raises(CommandError, match="Username must be"):
        run("--username", username, "--email", "ops@example.com", "--name", "Operator")

    assert not User.objects.filter(is_staff=True, email="ops@example.com").exists()


def test_password_stdin_needs_username_and_email(db):
    with pytest.raises(CommandError, match="needs --username"):
        run("--username", "ops")


@pytest.mark.parametrize(
    "existing", [{"username": "OPS"}, {"email": "OPS@example.com"}], ids=["username", "email"]
)
def test_an_existing_account_fails_without_update(db, existing):
    UserFactory(**{"username": "someone", "email": "someone@example.com", **existing})

    with pytest.raises(CommandError, match="--update"):
        run(*SCRIPTED)

    assert User.objects.filter(is_staff=True).count() == 0


def test_update_sets_password_and_flags_idempotently(db):
    run(*SCRIPTED)
    admin = User.objects.get(username="ops")
    session = LoginSessionFactory(user=admin)

    output = run(*SCRIPTED, "--super-admin", "--update", password="NewAdminPass456")

    assert "Updated super admin ops" in output
    admin.refresh_from_db()
    assert admin.is_superuser and admin.check_password("NewAdminPass456")
    session.refresh_from_db()
    assert session.revoked_at is not None
    update = audit_row(action=AuditAction.PLATFORM_ADMIN_UPDATE, target_id=str(admin.pk))
    assert update.changes["password"] == {"changed": True}
    assert update.changes["is_superuser"] == {"before": False, "after": True}

    # The same run again changes nothing and records nothing.
    later = LoginSessionFactory(user=admin)
    run(*SCRIPTED, "--super-admin", "--update", password="NewAdminPass456")
    later.refresh_from_db()
    assert later.revoked_at is None
    assert User.objects.get(pk=admin.pk).password == admin.password  # not hashed again
    assert AuditLog.objects.filter(action=AuditAction.PLATFORM_ADMIN_UPDATE).count() == 1


def test_update_promotes_an_existing_account_without_a_tenant(db):
    member = UserFactory(username="ops", email="ops@example.com", role=builtin("user"))

    run(*SCRIPTED, "--update")

    member.refresh_from_db()
    assert member.is_platform_admin and member.role_name == "admin"


def test_update_refuses_an_account_of_a_tenant(db):
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    UserFactory(username="ops", email="ops@example.com", tenant=tenant)

    with pytest.raises(CommandError, match="tenant"):
        run(*SCRIPTED, "--update")


def test_update_refuses_a_username_and_email_of_two_accounts(db):
    UserFactory(username="ops", email="first@example.com")
    UserFactory(username="other", email="ops@example.com")

    with pytest.raises(CommandError, match="two different accounts"):
        run(*SCRIPTED, "--update")


def test_the_script_runs_from_the_repository_root(transactional_db, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "BCRYPT_ROUNDS": "4",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)

    result = subprocess.run(
        [sys.executable, "scripts/create_admin.py", *SCRIPTED, "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=BASE_DIR,
        env=env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Created admin ops" in result.stdout
    assert User.objects.get(username="ops").is_platform_admin
    assert not LoginSession.objects.exists()

    again = subprocess.run(
        [sys.executable, "scripts/create_admin.py", *SCRIPTED, "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=BASE_DIR,
        env=env,
        timeout=60,
        check=False,
    )
    assert again.returncode == 1
    assert "--update" in again.stderr


@pytest.mark.parametrize(
    "squatter",
    [
        {"username": "ops", "email": "attacker@example.net"},
        {"username": "ops-squat", "email": "ops@example.com"},
    ],
    ids=["username only", "email only"],
)
def test_update_refuses_an_account_that_matches_only_the_username_or_the_email(db, squatter):
    """Someone who registered the admin's username (or address) first must not have
    their account, whose email they control, made a super admin: a password reset
    mailed to them would hand them the platform."""
    account = UserFactory(**squatter, role=builtin("user"))

    with pytest.raises(CommandError, match="both"):
        run(*SCRIPTED, "--super-admin", "--update")

    account.refresh_from_db()
    assert not (account.is_staff or account.is_superuser)
    assert account.role_name == "user"
    assert not AuditLog.objects.filter(action=AuditAction.PLATFORM_ADMIN_UPDATE).exists()


def test_update_without_super_admin_never_demotes_the_last_superuser(db):
    run(*SCRIPTED, "--super-admin")

    # A forgotten password reset without --super-admin would leave nobody to run the site.
    with pytest.raises(CommandError, match="last active superuser"):
        run(*SCRIPTED, "--update", password="NewAdminPass456")

    admin = User.objects.get(username="ops")
    assert admin.is_superuser and admin.check_password(PASSWORD)
    assert not AuditLog.objects.filter(action=AuditAction.PLATFORM_ADMIN_UPDATE).exists()


def test_update_without_super_admin_demotes_a_superuser_who_is_not_the_last(db):
    UserFactory(username="root", is_staff=True, is_superuser=True, role=builtin("admin"))
    run(*SCRIPTED, "--super-admin")

    run(*SCRIPTED, "--update")

    assert not User.objects.get(username="ops").is_superuser
