"""The shapes of user exports: the profile section of the JSON one person gets at
GET /api/v1/users/me/export (`accounts.selectors.personal_data_export`), and the CSV
rows of every user (`export_users`), read back by `import_users`.

A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return as a formula, so an account name like `=HYPERLINK(…)` would run on the
machine of whoever opens the export. Such cells are exported with a leading `'`
(which spreadsheets show as plain text); the import takes that quote off again, so
an exported file, given passwords, imports the same values.
"""

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.utils import timezone

from accounts.models import User

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
    ("subscription_plan", "subscription_plan_id"),
    ("phone", "phone"),
    ("avatar_url", "avatar_url"),
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


def restored_cell(value: str | None) -> str | None:
    """The value an exported cell stood for: the inverse of `neutralised_cell`."""
    if value and value.startswith("'") and neutralised_cell(value[1:]) == value:
        return value[1:]
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
        user.subscription_plan_id,
        user.is_verified,
        user.role.name if user.role_id else "",
        user.tenant.slug if user.tenant_id else "",
        user.created_at.isoformat(),
    ]
