"""The staff rules: what a request must show before platform-admin power is used.

- `IP_WHITELIST_ENABLED`: the client IP is covered by the allowlist.
- `ADMIN_REQUIRE_MFA`: the request's credential is a login that passed MFA: an
  access token of a login session verified with a second factor, or an admin-site
  session verified with an OTP device. An API key never is, so with the setting on a
  key carries no platform-admin power.

`accounts.authz.is_platform_admin` asks them for every API view and service, the
admin site for every page (`support.admin_site`). A request that breaks one is
refused with 403 and the rule's code, and a security event; it is never quietly
treated as an ordinary user's. Without a request (management commands, Celery
tasks) nothing is asked: those are the operators' own paths.
"""

from enum import StrEnum

from django.conf import settings

from core.errors import ServiceError
from security.context import current_context
from security.errors import SecurityErrorCode
from security.models import SecurityEvent, Severity
from security.services.allowlist import ip_is_allowlisted
from security.services.events import security_event_record


class StaffRule(StrEnum):
    """A broken staff rule, named by the error code its refusal carries."""

    IP_NOT_ALLOWLISTED = SecurityErrorCode.IP_NOT_ALLOWLISTED.value
    MFA_REQUIRED = SecurityErrorCode.MFA_REQUIRED.value


_MESSAGES = {
    StaffRule.IP_NOT_ALLOWLISTED: "This address may not use staff powers (IP_WHITELIST_ENABLED).",
    StaffRule.MFA_REQUIRED: (
        "Staff powers need a login that passed MFA (ADMIN_REQUIRE_MFA); "
        "log in with your second factor. API keys never carry them."
    ),
}


def staff_address_refused(ip_address: str | None) -> bool:
    """The allowlist rule alone, for pages shown before anyone has logged in."""
    return settings.IP_WHITELIST_ENABLED and not (ip_address and ip_is_allowlisted(ip_address))


def staff_rule_broken(*, ip_address: str | None, mfa_verified: bool) -> StaffRule | None:
    """The first staff rule a request from this address with this credential breaks."""
    if staff_address_refused(ip_address):
        return StaffRule.IP_NOT_ALLOWLISTED
    if settings.ADMIN_REQUIRE_MFA and not mfa_verified:
        return StaffRule.MFA_REQUIRED
    return None


def staff_rule_broken_now(user) -> StaffRule | None:
    """The rule the current request breaks if `user` uses platform-admin power in it."""
    context = current_context()
    if not context.in_request:
        return None
    credential = context.credential
    mfa_verified = bool(
        credential is not None and credential.user_id == user.pk and credential.mfa_verified
    )
    return staff_rule_broken(ip_address=context.ip_address, mfa_verified=mfa_verified)


def staff_refusal_record(*, rule: StaffRule, user=None) -> None:
    security_event_record(
        kind=SecurityEvent.Kind.PERMISSION_DENIED,
        severity=Severity.WARNING,
        user=user,
        details={"reason": rule.lower(), "surface": "staff"},
    )


class StaffRuleBroken(ServiceError):
    """403 for a platform admin whose request breaks a staff rule.

    Not a `Forbidden`: code that turns a Forbidden into a per-item answer (bulk
    updates) must not swallow it. The security event is written when the refusal is
    answered, after the transaction it was raised in has rolled back."""

    status_code = 403

    def __init__(self, rule: StaffRule, *, user) -> None:
        super().__init__(_MESSAGES[rule], code=SecurityErrorCode(rule.value))
        self.rule = rule
        self.user = user

    def answered(self) -> None:
        staff_refusal_record(rule=self.rule, user=self.user)
