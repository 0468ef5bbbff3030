"""The support staff levels as data: the rights of each level, the user fields it
sees and the fields it may change. The `/v1/support` routes and their access-matrix
test both read these tables, so a change here changes both."""

from enum import StrEnum

from accounts.models import User


class SupportRight(StrEnum):
    """What a support level may do; each `/v1/support/users…` route needs one."""

    VIEW_USERS = "view_users"
    EDIT_EMAIL = "edit_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a right's name, not a password
    EDIT_CREDITS = "edit_credits"
    EDIT_PLAN = "edit_plan"
    EDIT_PROFILE = "edit_profile"
    READ_MESSAGES = "read_messages"
    MANAGE_API_KEYS = "manage_api_keys"


Level = User.SupportLevel

_NEW = frozenset({SupportRight.VIEW_USERS})
_SUPPORT = _NEW | {
    SupportRight.EDIT_EMAIL,
    SupportRight.RESET_PASSWORD,
    SupportRight.EDIT_CREDITS,
    SupportRight.EDIT_PLAN,
}
_ADVANCED = _SUPPORT | {
    SupportRight.EDIT_PROFILE,
    SupportRight.READ_MESSAGES,
    SupportRight.MANAGE_API_KEYS,
}

LEVEL_RIGHTS: dict[User.SupportLevel, frozenset[SupportRight]] = {
    Level.NEW: _NEW,
    Level.SUPPORT: frozenset(_SUPPORT),
    Level.ADVANCED: frozenset(_ADVANCED),
}

# The user fields each level sees in the list and the details. `tenant` is the
# tenant's id and name; `credits` and `limits` are the balance.
_NEW_FIELDS = (
    "id",
    "username",
    "name",
    "status",
    "subscription_plan",
    "tenant",
    "created_at",
)
_SUPPORT_FIELDS = (*_NEW_FIELDS, "email", "is_verified", "credits", "limits")
_ADVANCED_FIELDS = (
    *_SUPPORT_FIELDS,
    "first_name",
    "last_name",
    "user_type",
    "about_me",
    "hobbies",
    "pending_email",
    "last_login",
    "updated_at",
    "used_today",
    "last_reset_on",
)
VISIBLE_FIELDS: dict[User.SupportLevel, tuple[str, ...]] = {
    Level.NEW: _NEW_FIELDS,
    Level.SUPPORT: _SUPPORT_FIELDS,
    Level.ADVANCED: _ADVANCED_FIELDS,
}

# Every field `PUT /v1/support/users/{id}` can change, and the right it needs. Role,
# tenant, staff flags, support level, verification and the password are never here:
# the password has its own route, the rest is for admins.
FIELD_RIGHTS: dict[str, SupportRight] = {
    "email": SupportRight.EDIT_EMAIL,
    "subscription_plan": SupportRight.EDIT_PLAN,
    "name": SupportRight.EDIT_PROFILE,
    "first_name": SupportRight.EDIT_PROFILE,
    "last_name": SupportRight.EDIT_PROFILE,
    "about_me": SupportRight.EDIT_PROFILE,
    "hobbies": SupportRight.EDIT_PROFILE,
    "user_type": SupportRight.EDIT_PROFILE,
    "status": SupportRight.EDIT_PROFILE,
}

EDITABLE_FIELDS: dict[User.SupportLevel, frozenset[str]] = {
    level: frozenset(field for field, right in FIELD_RIGHTS.items() if right in rights)
    for level, rights in LEVEL_RIGHTS.items()
}


def rights_of(user) -> frozenset[SupportRight]:
    """The rights of a support staff member's level; none for anyone else."""
    return LEVEL_RIGHTS.get(user.support_level, frozenset())


# The statuses support staff move an account between; pending and deleted accounts
# change only through verification, deletion and recovery.
STAFF_SETTABLE_STATUSES = (User.Status.ACTIVE, User.Status.SUSPENDED)
