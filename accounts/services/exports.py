"""Exports of users: everything held about one person as JSON (the right of access,
GET /api/v1/users/me/export), and every user as CSV (`export_users`).

A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return as a formula, so an account name like `=HYPERLINK(…)` would run on the
machine of whoever opens the export. Such cells are exported with a leading `'`
(which spreadsheets show as plain text); the import takes that quote off again, so
an exported file, given passwords, imports the same values.
"""

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.forms.models import model_to_dict
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from security.models import AuditLog, SecurityEvent

# The profile section: the account as its owner sees it at GET /api/v1/users/me
# (name in the export, attribute of the user).
PROFILE_FIELDS = (
    ("id", "id"),
    ("email", "email"),
    ("username", "username"),
    ("name", "name"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("status", "status"),
    ("user_type", "user_type"),
    ("about_me", "about_me"),
    ("hobbies", "hobbies"),
    ("subscription_plan", "subscription_plan"),
    ("is_verified", "is_verified"),
    ("is_staff", "is_staff"),
    ("role", "role_name"),
    ("tenant_id", "tenant_id"),
    ("preferences", "preferences"),
    ("last_login", "last_login"),
    ("password_changed_at", "password_changed_at"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
)


_SESSION_FIELDS = (
    "id",
    "ip_address",
    "user_agent",
    "remember_me",
    "mfa_verified",
    "created_at",
    "last_seen_at",
    "expires_at",
    "revoked_at",
    "revoked_reason",
)
_AUDIT_FIELDS = (
    "occurred_at",
    "actor_kind",
    "action",
    "target_type",
    "target_id",
    "changes",
    "ip_address",
    "user_agent",
)


def personal_data_export(*, user: User) -> dict:
    """Profile, preferences, sessions, MFA status, API-key metadata, credits and audit
    records about the person; later features add their sections here."""
    about_user = AuditLog.objects.filter(target_type=User._meta.label_lower, target_id=str(user.pk))
    by_user = AuditLog.objects.filter(actor_id=user.pk)
    return {
        "exported_at": timezone.now(),
        "profile": profile_row(user),
        "preferences": user.preferences,
        "mfa": {"totp_enabled": TOTPDevice.objects.filter(user=user, confirmed=True).exists()},
        "login_sessions": [
            model_to_dict(session, fields=_SESSION_FIELDS) | {"id": str(session.pk)}
            for session in user.login_sessions.order_by("-created_at")
        ],
        "api_keys": [],
        "credit_history": [],
        "audit_records": list((about_user | by_user).distinct().values(*_AUDIT_FIELDS)),
        "security_events": list(
            SecurityEvent.objects.filter(user_id=user.pk).values(
                "occurred_at", "kind", "severity", "ip_address", "path"
            )
        ),
    }


def profile_row(user: User) -> dict:
    """The account's profile as JSON values (times in ISO 8601, UTC as `Z`)."""
    row = {}
    for name, attribute in PROFILE_FIELDS:
        value = getattr(user, attribute)
        if isinstance(value, datetime):
            value = timezone.localtime(value).isoformat().replace("+00:00", "Z")
        elif isinstance(value, str):
            value = str(value)
        row[name] = value
    return row


EXPORT_FIELDS = [
    "id",
    "username",
    "email",
    "name",
    "first_name",
    "last_name",
    "status",
    "user_type",
    "subscription_plan",
    "is_verified",
    "role",
    "tenant",
    "created_at",
]
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralised_cell(value):
    """A text cell a spreadsheet will not run as a formula (other values unchanged)."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_TRIGGERS) or (
        value.startswith("'") and value[1:].startswith((*FORMULA_TRIGGERS, "'"))
    ):
        return f"'{value}"
    return value


def export_rows(users: Iterable[User]) -> Iterator[list]:
    yield EXPORT_FIELDS
    for user in users:
        yield [neutralised_cell(value) for value in _user_values(user)]


def _user_values(user: User) -> list:
    return [
        user.pk,
        user.username,
        user.email,
        user.name,
        user.first_name,
        user.last_name,
        user.status,
        user.user_type,
        user.subscription_plan,
        user.is_verified,
        user.role.name if user.role_id else "",
        user.tenant.slug if user.tenant_id else "",
        user.created_at.isoformat(),
    ]
