import hashlib
import uuid

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import PermissionsMixin
from django.core.files.storage import default_storage
from django.core.validators import MinLengthValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.authz.roles import BuiltinRole
from accounts.managers import UserManager
from core.models import TimeStampedModel

username_validator = RegexValidator(
    regex=r"^[A-Za-z0-9_-]{3,50}$",
    message="Username must be 3-50 characters of letters, digits, '-' and '_'.",
)


class Role(TimeStampedModel):
    """A named set of permission strings; built-in roles have no tenant."""

    name = models.CharField(max_length=50)
    description = models.CharField(max_length=255, blank=True)
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="roles"
    )
    permissions = models.JSONField(default=list, blank=True)
    is_builtin = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="role_unique_name_per_tenant"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(tenant__isnull=True), name="role_unique_global_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractBaseUser, PermissionsMixin, TimeStampedModel):
    """An account; email and username are unique whatever their letter case."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        PENDING = "pending", "Pending"
        DELETED = "deleted", "Deleted (recoverable until purged)"

    class UserType(models.TextChoices):
        PERSONAL = "Personal", "Personal"
        BUSINESS = "Business", "Business"

    class SupportLevel(models.TextChoices):
        """Support staff tiers; what each may do is `support.levels.LEVEL_RIGHTS`."""

        NEW = "new", "New (read-only)"
        SUPPORT = "support", "Support"
        ADVANCED = "advanced", "Advanced"

    username = models.CharField(max_length=50, validators=[username_validator])
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=100, blank=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    user_type = models.CharField(max_length=16, choices=UserType.choices, default=UserType.PERSONAL)
    about_me = models.TextField(blank=True, max_length=2000)
    hobbies = models.TextField(blank=True, max_length=1000)
    # The plan's code is the column's value (`subscription_plan_id` reads it without a
    # query); a plan in use cannot be deleted. Changed only by `credits.services.plan_change`.
    subscription_plan = models.ForeignKey(
        "credits.Plan",
        to_field="code",
        db_column="subscription_plan",
        on_delete=models.PROTECT,
        default="free",
        related_name="users",
    )
    billing_email = models.EmailField(
        max_length=254, blank=True, help_text="Where invoices go; empty: the account's email."
    )
    # E.164 ("+" and up to 15 digits), written only through `accounts.phones`.
    phone = models.CharField(max_length=16, blank=True)
    # The avatar's name in the default storage (`avatars/<random>.webp`), blank for none;
    # written only by `accounts.services.avatars`.
    avatar = models.CharField(max_length=100, blank=True, editable=False)
    # The user's own choices (a partial document of accounts.preferences), checked by
    # the services and the admin form on every change; never read as the whole truth:
    # `effective_preferences` lays them over the defaults.
    preferences = models.JSONField(default=dict, blank=True)
    is_verified = models.BooleanField(default=False)
    is_staff = models.BooleanField(
        default=False, help_text="Whether the user can log into the admin site."
    )
    support_level = models.CharField(
        max_length=16,
        choices=SupportLevel.choices,
        blank=True,
        help_text="Support staff tier; blank for everyone else.",
    )
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    role = models.ForeignKey(
        Role, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    password_changed_at = models.DateTimeField(null=True, blank=True)
    pending_email = models.EmailField(max_length=254, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Who deleted the account (only its owner may recover it) and the status that
    # recovery gives back.
    deleted_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_before_deletion = models.CharField(max_length=16, choices=Status.choices, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]
        # Each filter and ordering of GET /api/v1/users and of the admin's user list has
        # an index; the admin's substring search has trigram indexes on PostgreSQL
        # (migration 0012). See docs/architecture.md, "Large tables".
        indexes = [
            models.Index(fields=["tenant", "status"], name="user_tenant_status_idx"),
            # Sign-ups per window, the newest-first lists and their keyset pages.
            models.Index(fields=["created_at"], name="user_created_idx"),
            models.Index(fields=["tenant", "created_at"], name="user_tenant_created_idx"),
            models.Index(fields=["status", "created_at"], name="user_status_created_idx"),
            # A role's holders newest first: the role's oldest holders would otherwise
            # send the planner backwards through every newer account.
            models.Index(fields=["role", "created_at"], name="user_role_created_idx"),
            models.Index(fields=["username"], name="user_username_idx"),
            models.Index(fields=["email"], name="user_email_idx"),
            models.Index(
                fields=["created_at"], condition=Q(is_staff=True), name="user_staff_created_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def is_active(self) -> bool:
        """Only active accounts may log in; status is the one source of truth."""
        return self.status == self.Status.ACTIVE

    @property
    def role_name(self) -> str | None:
        return self.role.name if self.role_id else None

    @property
    def is_platform_admin(self) -> bool:
        return self.is_superuser or (
            self.is_staff and self.tenant_id is None and self.role_name == BuiltinRole.ADMIN
        )

    @property
    def is_support_staff(self) -> bool:
        return bool(self.support_level)

    @property
    def avatar_url(self) -> str | None:
        """Where the avatar is served, from the storage (None without one)."""
        return default_storage.url(self.avatar) if self.avatar else None

    def get_full_name(self) -> str:
        return self.name or f"{self.first_name} {self.last_name}".strip() or self.username

    def get_short_name(self) -> str:
        return self.first_name or self.username


class LoginSession(models.Model):
    """One login: the refresh token chain and every access token it issued."""

    class RevokeReason(models.TextChoices):
        LOGOUT = "logout", "Logged out"
        PASSWORD_CHANGE = "password_change", "Password changed"
        STATUS_CHANGE = "status_change", "Account suspended or deactivated"
        OTHER_SESSION = "other_session", "Ended from another session"
        EMAIL_CHANGE = "email_change", "Email address changed"
        REFRESH_REUSE = "refresh_reuse", "Rotated refresh token re-used"
        REVOKED = "revoked", "Revoked by the user or staff"

    class Surface(models.TextChoices):
        """The login that opened the session; it decides how long its tokens live."""

        API = "api", "/api/v1/auth/login"
        USERS = "users", "/v1/users/login"
        ADMIN_PANEL = "admin-panel", "/v1/admin-panel/login"
        SUPPORT = "support", "/v1/support/login"
        OAUTH = "oauth", "/oauth/login (OAuth / OpenID Connect sign-in)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    remember_me = models.BooleanField(default=False)
    surface = models.CharField(max_length=16, choices=Surface.choices, default=Surface.API)
    refresh_jti = models.CharField(max_length=64, validators=[MinLengthValidator(16)])
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, choices=RevokeReason.choices, blank=True)
    mfa_verified = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "revoked_at"], name="loginsession_user_revoked_idx"),
            models.Index(fields=["expires_at"], name="loginsession_expires_idx"),
            # Logins per window (the admin panel's statistics) and the newest-first list.
            models.Index(fields=["created_at"], name="loginsession_created_idx"),
            models.Index(fields=["ip_address"], name="loginsession_ip_idx"),
            # The sessions live now (statistics), counted from the index alone.
            models.Index(
                fields=["expires_at"],
                name="loginsession_live_idx",
                condition=models.Q(revoked_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.id}"

    def is_active_at(self, moment) -> bool:
        return self.revoked_at is None and self.expires_at > moment


class MfaChallenge(models.Model):
    """The half-finished login between the password step and the code step.

    Its token is shown once and stored as a SHA-256 digest; it opens nothing but
    the code step, lives a few minutes and is used at most once.
    """

    token_digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mfa_challenges")
    identifier = models.CharField(max_length=254)
    remember_me = models.BooleanField(default=False)
    surface = models.CharField(
        max_length=16, choices=LoginSession.Surface.choices, default=LoginSession.Surface.API
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"mfa challenge of {self.user_id}"

    @staticmethod
    def digest_of(token: str) -> str:
        """The stored form of a challenge token."""
        return hashlib.sha256(token.encode()).hexdigest()


class PreferenceChange(models.Model):
    """One change of a user's stored preferences (their choices): who made it, through
    which route, and the document before and after. Written in the change's transaction;
    never changed afterwards."""

    class Source(models.TextChoices):
        SELF = "self", "The user"
        STAFF = "staff", "Staff (one user)"
        BULK = "bulk", "Staff (bulk change)"
        ADMIN_SITE = "admin_site", "Admin site"
        SYSTEM = "system", "System"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="preference_changes")
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The owner's history, newest first.
            models.Index(fields=["user", "-created_at", "-id"], name="prefchange_user_newest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.source} {self.created_at:%Y-%m-%d %H:%M:%S}"
