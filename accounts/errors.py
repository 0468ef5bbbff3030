"""The error codes accounts raises: registration, passwords, login and sessions, MFA,
the account lifecycle, user and role administration."""

from core.errors import ErrorCode


class AccountErrorCode(ErrorCode):
    """Codes of the account endpoints (`/api/v1/auth`, `/api/v1/users`, `/api/v1/roles`,
    `/v1/users`)."""

    # Registration and identity
    USER_EXISTS = "USER_EXISTS", 409, "email or username taken (in any letter case)"
    REGISTRATION_DISABLED = "REGISTRATION_DISABLED", 403, "`USER_REGISTRATION_ENABLED=false`"
    UNKNOWN_TENANT = "UNKNOWN_TENANT", 400, "`tenant_id` names no active tenant"
    TENANT_REGISTRATION_CLOSED = (
        "TENANT_REGISTRATION_CLOSED",
        403,
        "the tenant named by `tenant_id` takes no self-registration for this address",
    )
    EMAIL_VERIFICATION_REQUIRED = (
        "EMAIL_VERIFICATION_REQUIRED",
        403,
        "the tenant admits members by email domain and email verification is off",
    )
    PREFERENCES_INVALID = (
        "PREFERENCES_INVALID",
        400,
        "preferences with unknown keys or values of the wrong type or outside the allowed "
        "ones; `fields` (and `errors`) name each bad path, e.g. `notifications.email`",
    )
    EMAIL_UNCHANGED = "EMAIL_UNCHANGED", 400, "an email change to the current address"

    # Passwords
    WEAK_PASSWORD = (
        "WEAK_PASSWORD",
        400,
        "the password breaks the policy (each rule in `errors`)",
    )
    INVALID_CURRENT_PASSWORD = (
        "INVALID_CURRENT_PASSWORD",
        400,
        "the password asked again before a sensitive change is wrong",
    )
    PASSWORD_UNCHANGED = "PASSWORD_UNCHANGED", 400, "a password change to the same password"
    PASSWORD_EXPIRED = (
        "PASSWORD_EXPIRED",
        403,
        "the password is older than `PASSWORD_EXPIRY_DAYS`: only a password change is allowed",
    )

    # Login and sessions
    INVALID_CREDENTIALS = (
        "INVALID_CREDENTIALS",
        401,
        "wrong login (never says whether the account exists)",
    )
    INVALID_TOKEN = (
        "INVALID_TOKEN",
        401,
        "refresh token invalid; an emailed token invalid or expired (400)",
    )
    REFRESH_TOKEN_REUSED = (
        "REFRESH_TOKEN_REUSED",
        401,
        "a refresh token that was already rotated: its session is revoked",
    )
    SESSION_REVOKED = (
        "SESSION_REVOKED",
        401,
        "the access token's login session was revoked or has expired",
    )
    USER_INACTIVE = "USER_INACTIVE", 401, "the access token's account is no longer active"
    TENANT_INACTIVE = (
        "TENANT_INACTIVE",
        403,
        "the account's organisation is deactivated (401 for a token or key)",
    )
    ACCOUNT_SUSPENDED = "ACCOUNT_SUSPENDED", 403, "right password, account suspended"
    ACCOUNT_PENDING = "ACCOUNT_PENDING", 403, "right password, account pending activation"
    ACCOUNT_DELETED = (
        "ACCOUNT_DELETED",
        403,
        "right password, account deleted (recoverable through `/api/v1/auth/recover-account`)",
    )

    # MFA
    MFA_THROTTLED = (
        "MFA_THROTTLED",
        429,
        "an MFA code sent too soon after a wrong one; `Retry-After` and "
        "`retry_after_seconds` say how long to wait",
    )
    MFA_ALREADY_ENABLED = "MFA_ALREADY_ENABLED", 400, "TOTP setup while MFA is on"
    MFA_SETUP_NOT_STARTED = "MFA_SETUP_NOT_STARTED", 400, "TOTP confirm before setup"
    MFA_NOT_ENABLED = "MFA_NOT_ENABLED", 400, "an MFA change for an account without MFA"
    INVALID_MFA_CODE = (
        "INVALID_MFA_CODE",
        400,
        "a wrong TOTP or recovery code (401 at the login's code step)",
    )
    INVALID_MFA_TOKEN = (
        "INVALID_MFA_TOKEN",
        401,
        "the login's MFA token is unknown, used or expired",
    )

    # User and role administration
    INVALID_STATUS = "INVALID_STATUS", 400, "a status an account may not be given"
    UNKNOWN_ROLE = "UNKNOWN_ROLE", 400, "a role name the user's tenant does not have"
    ROLE_TOO_HIGH = "ROLE_TOO_HIGH", 403, "a role above the caller's own"
    NOTHING_TO_DO = "NOTHING_TO_DO", 400, "a bulk update that names neither status nor role"
    BULK_REFUSED = (
        "BULK_REFUSED",
        400,
        "a bulk update with a refused item: nothing changed, `items` lists the refusals",
    )
    BULK_TOO_LARGE = (
        "BULK_TOO_LARGE",
        400,
        "a bulk preferences change that selects more users than one call may change",
    )
    INVALID_PERMISSION = (
        "INVALID_PERMISSION",
        400,
        "a permission not written `action:resource`",
    )
    INVALID_ROLE_NAME = (
        "INVALID_ROLE_NAME",
        400,
        "a role name that is not 2-50 lower-case letters, digits, '-' or '_'",
    )
    ROLE_EXISTS = "ROLE_EXISTS", 409, "a role with this name exists"
    BUILTIN_ROLE = "BUILTIN_ROLE", 403, "a change or deletion of a built-in role"
    ROLE_IN_USE = "ROLE_IN_USE", 409, "deleting a role still assigned to users"
    ROLE_READ_ONLY = (
        "ROLE_READ_ONLY",
        403,
        "a write by an account whose role holds only `read:*` permissions (the guest role); "
        "it may still change its password, log out and call the metered API",
    )
    SELF_LOCKOUT = (
        "SELF_LOCKOUT",
        403,
        "staff suspending, demoting, deleting or un-staffing their own account (deleting "
        "it through `/api/v1/users/me` or `/v1/users/account` stays allowed)",
    )
    LAST_SUPERUSER = (
        "LAST_SUPERUSER",
        409,
        "a change that would leave no active superuser: suspending, demoting, deleting "
        "or un-staffing the last one",
    )
    ADMIN_ROLE_NEEDS_TENANT = (
        "ADMIN_ROLE_NEEDS_TENANT",
        400,
        "the built-in admin role given to an account without a tenant; platform admins "
        "are made only by `POST /v1/admin-panel/create-admin`, `manage.py create_admin` "
        "and `createsuperuser`",
    )

    # Profile: phone number and avatar
    INVALID_PHONE = (
        "INVALID_PHONE",
        400,
        "`phone` is not a valid number in international format (+ and the country code)",
    )
    AVATAR_MISSING = "AVATAR_MISSING", 400, "an avatar upload without the `avatar` file field"
    AVATAR_UNSUPPORTED_TYPE = (
        "AVATAR_UNSUPPORTED_TYPE",
        400,
        "the avatar's content is not a PNG, JPEG or WebP image (SVG, GIF, text and anything "
        "else are refused, whatever the file name or content type says)",
    )
    AVATAR_CORRUPT = (
        "AVATAR_CORRUPT",
        400,
        "the avatar is a PNG, JPEG or WebP that cannot be decoded (truncated or damaged)",
    )
    AVATAR_TOO_MANY_PIXELS = (
        "AVATAR_TOO_MANY_PIXELS",
        400,
        "the avatar's dimensions exceed 24 megapixels or 8000 px a side (a decompression bomb)",
    )
    AVATAR_TOO_LARGE = "AVATAR_TOO_LARGE", 413, "the avatar file is over 2 MB"
