import ipaddress

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import TimeStampedModel


class ActorKind(models.TextChoices):
    USER = "user", "User"
    ADMIN = "admin", "Admin"
    SUPPORT = "support", "Support agent"
    API_KEY = "api_key", "API key"
    SYSTEM = "system", "System"
    ANONYMOUS = "anonymous", "Anonymous"


class AuditAction(models.TextChoices):
    """Every action the audit trail records; the value is what the row stores.

    Changes made through the Django admin's own forms are recorded as
    `admin.<model>.<create|update|delete|change>` (see `admin_page_action`).
    """

    ACCOUNT_UNLOCK = "account.unlock", "Account: unlock"
    API_KEY_CREATE = "api_key.create", "API key: create"
    API_KEY_REGENERATE = "api_key.regenerate", "API key: regenerate"
    API_KEY_REVOKE = "api_key.revoke", "API key: revoke"
    API_KEY_ROTATE = "api_key.rotate", "API key: rotate"
    CREDITS_CHANGE = "credits.change", "Credits: change"
    IP_BLOCK = "ip.block", "IP: block"
    IP_UNBLOCK = "ip.unblock", "IP: unblock"
    IP_ALLOWLIST_CREATE = "ip_allowlist.create", "IP allowlist: create"
    IP_ALLOWLIST_DELETE = "ip_allowlist.delete", "IP allowlist: delete"
    MFA_DISABLED = "mfa.disabled", "MFA: disabled"
    MFA_ENABLED = "mfa.enabled", "MFA: enabled"
    MFA_RECOVERY_CODES_REGENERATED = (
        "mfa.recovery_codes_regenerated",
        "MFA: recovery codes regenerated",
    )
    MFA_RESET_BY_STAFF = "mfa.reset_by_staff", "MFA: reset by staff"
    MFA_SETUP_STARTED = "mfa.setup_started", "MFA: setup started"
    MFA_VERIFIED = "mfa.verified", "MFA: verified"
    MESSAGE_LOG_PURGED = "message_log.purged", "Message log: expired conversations deleted"
    MESSAGE_LOG_READ = "message_log.read", "Message log: read by staff"
    PLAN_CHANGE = "plan.change", "Plan: a user's plan changed"
    PLATFORM_ADMIN_CREATE = "platform_admin.create", "Platform admin: create"
    PLATFORM_ADMIN_UPDATE = "platform_admin.update", "Platform admin: update"
    OAUTH_APPLICATION_CREATE = "oauth_application.create", "OAuth application: create"
    OAUTH_APPLICATION_DELETE = "oauth_application.delete", "OAuth application: delete"
    OAUTH_APPLICATION_SECRET_RESET = (
        "oauth_application.secret_reset",
        "OAuth application: new secret",
    )
    OAUTH_APPLICATION_UPDATE = "oauth_application.update", "OAuth application: update"
    SOCIAL_ACCOUNT_LINK = "social_account.link", "Social login: identity linked"
    ROLE_CREATE = "role.create", "Role: create"
    ROLE_DELETE = "role.delete", "Role: delete"
    ROLE_UPDATE = "role.update", "Role: update"
    SESSION_REFRESH = "session.refresh", "Session: refresh"
    SESSION_REVOKE = "session.revoke", "Session: revoke"
    SESSION_REVOKE_ALL = "session.revoke_all", "Session: revoke all"
    SESSION_START = "session.start", "Session: start"
    SUPPORT_API_KEYS_READ = "support.api_keys_read", "Support: a user's API keys read"
    SUPPORT_MESSAGES_READ = "support.messages_read", "Support: a user's conversations read"
    SUPPORT_STAFF_CREATE = "support.staff_create", "Support: staff account create"
    TENANT_ACTIVATE = "tenant.activate", "Tenant: activate"
    TENANT_CREATE = "tenant.create", "Tenant: create"
    TENANT_DEACTIVATE = "tenant.deactivate", "Tenant: deactivate"
    TENANT_UPDATE = "tenant.update", "Tenant: update"
    USER_AVATAR_REMOVE = "user.avatar_remove", "User: avatar remove"
    USER_AVATAR_SET = "user.avatar_set", "User: avatar set"
    USER_BILLING_EMAIL_CHANGE = "user.billing_email_change", "User: billing email change"
    USER_CREATE = "user.create", "User: create"
    USER_DELETED = "user.deleted", "User: deleted"
    USER_ERASED = "user.erased", "User: erased"
    USER_EMAIL_CHANGE_REQUESTED = "user.email_change_requested", "User: email change requested"
    USER_EMAIL_CHANGED = "user.email_changed", "User: email changed"
    USER_EMAIL_VERIFIED = "user.email_verified", "User: email verified"
    USER_IMPORT = "user.import", "User: import"
    USER_PASSWORD_CHANGE = "user.password_change", "User: password change"
    USER_PASSWORD_RESET = "user.password_reset", "User: password reset"
    USER_PASSWORD_SET_BY_STAFF = "user.password_set_by_staff", "User: password set by staff"
    USER_PREFERENCES_BULK_UPDATE = (
        "user.preferences_bulk_update",
        "User: preferences changed in bulk",
    )
    USER_PREFERENCES_UPDATE = "user.preferences_update", "User: preferences update"
    USER_PROFILE_UPDATE = "user.profile_update", "User: profile update"
    USER_PURGED = "user.purged", "User: purged"
    USER_RECOVERED = "user.recovered", "User: recovered"
    USER_REGISTER = "user.register", "User: register"
    USER_ROLE_ASSIGN = "user.role_assign", "User: role assign"
    USER_STATUS_CHANGE = "user.status_change", "User: status change"
    USER_UPDATE = "user.update", "User: update"
    WEBHOOK_CREATE = "webhook.create", "Webhook: create"
    WEBHOOK_DELETE = "webhook.delete", "Webhook: delete"
    WEBHOOK_DELIVERY_REPLAY = "webhook.delivery_replay", "Webhook: delivery replay"
    WEBHOOK_SECRET_ROTATE = "webhook.secret_rotate", "Webhook: secret rotate"
    WEBHOOK_UPDATE = "webhook.update", "Webhook: update"


def admin_page_action(model_name: str, verb: str) -> str:
    """The action of a change made on an admin page, e.g. `admin.tenant.update`."""
    return f"admin.{model_name}.{verb}"


class AuditLog(models.Model):
    """One state-changing action; rows are never changed or deleted.

    Plain ids instead of foreign keys so that deleting a user or tenant never
    touches the trail; the database refuses UPDATE (and DELETE on PostgreSQL).
    """

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    tenant_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        # Every filter of the admin panel's list and every exact search of the admin
        # page has an index (the trail is one of the largest tables).
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(fields=["target_id"], name="audit_target_id_idx"),
            models.Index(fields=["actor_label"], name="audit_actor_label_idx"),
            models.Index(fields=["request_id"], name="audit_request_idx"),
            models.Index(fields=["ip_address"], name="audit_ip_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_kind}:{self.actor_id} {self.action}"
        )


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class SecurityEvent(models.Model):
    """Something the security team should be able to see: failures, blocks, misuse."""

    class Kind(models.TextChoices):
        LOGIN_FAILED = "login_failed", "Failed login"
        ACCOUNT_LOCKED = "account_locked", "Account locked"
        ACCOUNT_UNLOCKED = "account_unlocked", "Account unlocked"
        IP_BLOCKED = "ip_blocked", "IP blocked"
        RATE_LIMITED = "rate_limited", "Rate limited"
        REFRESH_TOKEN_REUSE = "refresh_token_reuse", "Refresh token re-used"
        MFA_FAILED = "mfa_failed", "MFA code refused"
        PERMISSION_DENIED = "permission_denied", "Staff surface denied"
        API_KEY_MISUSE = "api_key_misuse", "API key misuse"

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, db_index=True)
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    username = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    user_agent = models.CharField(max_length=512, blank=True)
    path = models.CharField(max_length=512, blank=True)
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["username"], name="securityevent_username_idx"),
            models.Index(fields=["request_id"], name="securityevent_request_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.severity} {self.kind} {self.ip_address or ''}"


class IPAllowlistEntryQuerySet(models.QuerySet):
    def active(self, at=None):
        moment = at or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=moment))


class IPAllowlistEntry(TimeStampedModel):
    """An address or network allowed onto the staff surfaces when the allowlist is on."""

    network = models.CharField(max_length=64, help_text="An IP address or CIDR network.")
    description = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)

    objects = IPAllowlistEntryQuerySet.as_manager()

    class Meta:
        ordering = ["network"]
        verbose_name = "IP allowlist entry"
        verbose_name_plural = "IP allowlist"

    def __str__(self) -> str:
        return self.network

    def contains(self, ip: str) -> bool:
        try:
            return ipaddress.ip_address(ip) in ipaddress.ip_network(self.network, strict=False)
        except ValueError:
            return False


class IPBlockQuerySet(models.QuerySet):
    def active(self, at=None):
        return self.filter(lifted_at__isnull=True, blocked_until__gt=at or timezone.now())


class IPBlock(models.Model):
    """A temporary firewall block of one client IP."""

    ip_address = models.GenericIPAddressField(db_index=True)
    reason = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    blocked_until = models.DateTimeField(db_index=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by_id = models.BigIntegerField(null=True, blank=True)

    objects = IPBlockQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "IP block"

    def __str__(self) -> str:
        return f"{self.ip_address} until {self.blocked_until:%Y-%m-%d %H:%M}"
