"""Everything the service holds about one person, as JSON (the right of access)."""

from django.forms.models import model_to_dict
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.api.serializers import UserSerializer
from accounts.models import User
from security.models import AuditLog, SecurityEvent

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
    about_user = AuditLog.objects.filter(target_type="accounts.user", target_id=str(user.pk))
    by_user = AuditLog.objects.filter(actor_id=user.pk)
    return {
        "exported_at": timezone.now(),
        "profile": UserSerializer(user).data,
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
