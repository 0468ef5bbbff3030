"""CSV import of users (`import_users`), validated in full before anything is written.

A cell that `accounts.exports` quoted against spreadsheet formulas is read
back without its quote, so an exported file, given passwords, imports the same values.
"""

import csv
from dataclasses import dataclass, field
from typing import IO

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.authz.roles import BuiltinRole
from accounts.exports import restored_cell
from accounts.models import Role, User, username_validator
from accounts.selectors import user_email_taken, user_username_taken
from accounts.services.users import role_check_tenant
from core.errors import ValidationFailed
from security.models import ActorKind, AuditAction
from security.services.audit import audit_record
from tenants.models import Tenant

IMPORT_REQUIRED = ["username", "email", "password"]
# A new account starts in one of these; deletion is a change of an existing account.
IMPORT_STATUSES = (User.Status.ACTIVE, User.Status.SUSPENDED, User.Status.PENDING)
# The import never changes these: a password is whatever was typed.
VERBATIM_IMPORT_FIELDS = {"password"}


@dataclass
class ImportReport:
    created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _row_errors(row: dict, seen: dict[str, set], roles: dict, tenants: dict) -> list[str]:
    errors = [
        f"{name} is required" for name in IMPORT_REQUIRED if not (row.get(name) or "").strip()
    ]
    if errors:
        return errors
    username, email = row["username"].strip(), row["email"].strip().lower()
    try:
        username_validator(username)
    except ValidationError as exc:
        errors.extend(exc.messages)
    try:
        validate_email(email)
    except ValidationError:
        errors.append("email is not valid")
    if username.lower() in seen["username"] or user_username_taken(username):
        errors.append(f"username {username!r} is taken")
    if email in seen["email"] or user_email_taken(email):
        errors.append(f"email {email!r} is taken")
    tenant_slug = (row.get("tenant") or "").strip()
    if tenant_slug and tenant_slug not in tenants:
        errors.append(f"unknown tenant {tenant_slug!r}")
    status = (row.get("status") or User.Status.ACTIVE).strip()
    if status not in IMPORT_STATUSES:
        errors.append(f"status {status!r} is not one of {', '.join(IMPORT_STATUSES)}")
    role_name = (row.get("role") or BuiltinRole.USER).strip()
    if role_name not in roles:
        errors.append(f"unknown role {role_name!r}")
    else:
        tenant = tenants.get(tenant_slug)
        try:
            role_check_tenant(role=roles[role_name], tenant_id=tenant.pk if tenant else None)
        except ValidationFailed as refusal:
            errors.append(f"role {role_name!r}: {refusal.message}")
    try:
        password_validation.validate_password(row["password"], User(username=username, email=email))
    except ValidationError as exc:
        errors.extend(f"password: {message}" for message in exc.messages)
    seen["username"].add(username.lower())
    seen["email"].add(email)
    return errors


def import_users(
    stream: IO[str], *, actor: User | None, progress=lambda rows: rows
) -> ImportReport:
    """Create the users of a CSV (username, email, password[, name, role, tenant, status]).

    Every row is validated first; if any row is bad nothing is written and the report
    lists the bad rows by line number. The command imports as the system (`actor=None`).
    """
    rows = [
        {
            name: value if name in VERBATIM_IMPORT_FIELDS else restored_cell(value)
            for name, value in row.items()
        }
        for row in csv.DictReader(stream)
    ]
    roles = {role.name: role for role in Role.objects.filter(tenant__isnull=True)}
    tenants = {tenant.slug: tenant for tenant in Tenant.objects.all()}
    seen: dict[str, set] = {"username": set(), "email": set()}
    report = ImportReport()
    for line, row in enumerate(progress(rows), start=2):
        for message in _row_errors(row, seen, roles, tenants):
            report.errors.append((line, message))
    if report.errors:
        return report
    now = timezone.now()
    with transaction.atomic():
        for row in rows:
            user = User(
                username=row["username"].strip(),
                email=row["email"].strip().lower(),
                name=(row.get("name") or "").strip(),
                role=roles[(row.get("role") or BuiltinRole.USER).strip()],
                tenant=tenants.get((row.get("tenant") or "").strip()),
                status=(row.get("status") or User.Status.ACTIVE).strip(),
                password_changed_at=now,
                is_verified=True,
            )
            user.set_password(row["password"])
            user.save()
            report.created += 1
        audit_record(
            action=AuditAction.USER_IMPORT,
            actor=actor,
            actor_kind=ActorKind.SYSTEM if actor is None else None,
            target_type="accounts.user",
            changes={"created": report.created},
        )
    return report
