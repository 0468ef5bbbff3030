"""Multi-factor authentication: TOTP devices and hashed recovery codes (django-otp).

Codes are RFC 6238 (SHA-1, 6 digits, 30 s) with one step of drift either way;
django-otp refuses a code whose time step is not newer than the last accepted
one, and the device row is locked while a code is checked, so one code works
once even when sent twice at the same moment. Recovery codes live in a django-otp
static device as truncated HMAC digests and die when used.
"""

import base64
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO

import qrcode
import qrcode.image.svg
import structlog
from django.conf import settings
from django.contrib.auth import user_login_failed
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.errors import AccountErrorCode
from accounts.models import MfaChallenge, User
from accounts.selectors import confirmed_totp_device, user_has_mfa
from accounts.services.passwords import PasswordPurpose, password_confirm
from core.errors import AuthenticationError, TooManyRequests, ValidationFailed
from security.models import AuditAction, SecurityEvent, Severity
from security.services.audit import audit_record
from security.services.events import security_event_record

logger = structlog.get_logger(__name__)

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery-codes"


# ----- recovery codes -----------------------------------------------------------


def _recovery_digest(code: str) -> str:
    normalized = code.replace("-", "").replace(" ", "").upper()
    digest = hmac.new(settings.SECRET_KEY.encode(), normalized.encode(), hashlib.sha256)
    return digest.hexdigest()[:16]  # StaticToken.token holds 16 characters


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def recovery_codes_issue(*, user: User, actor: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; return them in clear, once.

    The calling service audits the change in its transaction, as done by `actor`.
    """
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=_recovery_digest(code)) for code in codes
    )
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    device = (
        StaticDevice.objects.select_for_update()
        .filter(user=user, name=RECOVERY_DEVICE_NAME)
        .first()
    )
    if device is None:
        return False
    _refuse_while_throttled(device)
    return device.verify_token(_recovery_digest(code))


# ----- throttling ----------------------------------------------------------------


def _refuse_while_throttled(device) -> None:
    """django-otp makes a device wait after a wrong code (1 s, 2 s, 4 s, ...); a code
    sent before then is not checked at all, so it is 429 MFA_THROTTLED, never "not valid"."""
    allowed, why = device.verify_is_allowed()
    if allowed:
        return
    locked_until = (why or {}).get("locked_until")
    seconds = 1
    if locked_until is not None:
        seconds = max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
    raise TooManyRequests(
        f"Too many wrong codes: wait {seconds} s, then send the current code.",
        code=AccountErrorCode.MFA_THROTTLED,
        extra={"retry_after_seconds": seconds},
        headers={"Retry-After": str(seconds)},
    )


# ----- TOTP ----------------------------------------------------------------------


def _qr_svg_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@dataclass(frozen=True)
class TotpEnrolment:
    otpauth_uri: str
    secret: str
    qr_code: str


def totp_setup(*, request, user: User, actor: User, password: str) -> TotpEnrolment:
    """Start enrolment: an unconfirmed device whose secret the user's app scans."""
    password_confirm(
        request=request, user=user, password=password, purpose=PasswordPurpose.MFA_SETUP
    )
    with transaction.atomic():
        if user_has_mfa(user):
            raise ValidationFailed(
                "MFA is already on; disable it first.", code=AccountErrorCode.MFA_ALREADY_ENABLED
            )
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
        uri = device.config_url
        secret = base64.b32encode(device.bin_key).decode().rstrip("=")
        audit_record(action=AuditAction.MFA_SETUP_STARTED, actor=actor, target=user)
    return TotpEnrolment(otpauth_uri=uri, secret=secret, qr_code=_qr_svg_data_uri(uri))


def _verify_totp_locked(device: TOTPDevice, code: str) -> bool:
    """Check a code with the device row locked: a code is accepted once only."""
    locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    _refuse_while_throttled(locked)
    return locked.verify_token(code.strip())


def _invalid_code() -> ValidationFailed:
    return ValidationFailed("That code is not valid.", code=AccountErrorCode.INVALID_MFA_CODE)


def totp_confirm(*, user: User, actor: User, code: str) -> list[str]:
    """Finish enrolment with a first code; returns the recovery codes (shown once).

    The code is checked in a transaction of its own, so a wrong one stays counted by
    the device's throttling.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        raise ValidationFailed(
            "Start enrolment first.", code=AccountErrorCode.MFA_SETUP_NOT_STARTED
        )
    with transaction.atomic():
        verified = _verify_totp_locked(device, code)
    if not verified:
        raise _invalid_code()
    with transaction.atomic():
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        codes = recovery_codes_issue(user=user, actor=actor)
        audit_record(action=AuditAction.MFA_ENABLED, actor=actor, target=user)
    return codes


def _verify_second_factor(*, user: User, code: str) -> str | None:
    """'totp' or 'recovery' when the code is good, else None. Call inside a transaction.

    Raises 429 MFA_THROTTLED while a wrong code makes the device wait.
    """
    device = confirmed_totp_device(user)
    if device is not None and code.strip().isdigit() and _verify_totp_locked(device, code):
        return "totp"
    if _use_recovery_code(user, code):
        return "recovery"
    return None


def _second_factor_proven(*, user: User, code: str) -> None:
    """A current code of a user with MFA on, checked in a transaction of its own so that a
    wrong one stays counted by the device's throttling."""
    if not user_has_mfa(user):
        raise ValidationFailed("MFA is not on.", code=AccountErrorCode.MFA_NOT_ENABLED)
    with transaction.atomic():
        method = _verify_second_factor(user=user, code=code)
    if method is None:
        raise _invalid_code()


def recovery_codes_regenerate(
    *, request, user: User, actor: User, password: str, code: str
) -> list[str]:
    """New recovery codes (the old ones die); needs the password and a current code."""
    password_confirm(
        request=request, user=user, password=password, purpose=PasswordPurpose.MFA_RECOVERY_CODES
    )
    _second_factor_proven(user=user, code=code)
    with transaction.atomic():
        codes = recovery_codes_issue(user=user, actor=actor)
        audit_record(action=AuditAction.MFA_RECOVERY_CODES_REGENERATED, actor=actor, target=user)
    return codes


def mfa_disable(*, request, user: User, actor: User, password: str, code: str) -> None:
    password_confirm(
        request=request, user=user, password=password, purpose=PasswordPurpose.MFA_DISABLE
    )
    _second_factor_proven(user=user, code=code)
    with transaction.atomic():
        _remove_devices(user)
        audit_record(action=AuditAction.MFA_DISABLED, actor=actor, target=user)


def _remove_devices(user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def mfa_reset_by_staff(*, user: User, actor: User) -> None:
    """Remove a user's MFA devices (lost phone); audited."""
    _remove_devices(user)
    audit_record(action=AuditAction.MFA_RESET_BY_STAFF, actor=actor, target=user)


# ----- the two-step login ---------------------------------------------------------


def mfa_challenge_create(
    *,
    user: User,
    identifier: str,
    remember_me: bool,
    surface: str,
    ip_address: str | None,
    user_agent: str,
) -> str:
    """After a correct password for an MFA account: a token for the code step only."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    MfaChallenge.objects.create(
        token_digest=MfaChallenge.digest_of(token),
        user=user,
        identifier=identifier,
        remember_me=remember_me,
        surface=surface,
        ip_address=ip_address,
        user_agent=user_agent[:512],
        created_at=now,
        expires_at=now + timedelta(seconds=settings.MFA_CHALLENGE_SECONDS),
    )
    return token


def mfa_challenge_redeem(*, request, token: str, code: str) -> MfaChallenge:
    """Check the second factor of a pending login; the challenge is used up on success.

    A wrong code counts as a failed login of the identifier (lockout, firewall).
    """
    invalid = AuthenticationError(
        "MFA token is invalid or expired.", code=AccountErrorCode.INVALID_MFA_TOKEN
    )
    with transaction.atomic():
        challenge = (
            MfaChallenge.objects.select_for_update()
            .select_related("user")
            .filter(token_digest=MfaChallenge.digest_of(token or ""))
            .first()
        )
        if challenge is None or challenge.used_at or challenge.expires_at <= timezone.now():
            raise invalid
        method = _verify_second_factor(user=challenge.user, code=code)
        if method is not None:
            challenge.used_at = timezone.now()
            challenge.save(update_fields=["used_at"])
            audit_record(
                action=AuditAction.MFA_VERIFIED,
                actor=challenge.user,
                target=challenge.user,
                changes={"method": method},
            )
            return challenge
    security_event_record(
        kind=SecurityEvent.Kind.MFA_FAILED, severity=Severity.WARNING, user=challenge.user
    )
    user_login_failed.send(
        sender=User, credentials={"username": challenge.identifier}, request=request
    )
    raise AuthenticationError("That code is not valid.", code=AccountErrorCode.INVALID_MFA_CODE)
