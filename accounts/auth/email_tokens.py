"""Signed, expiring, single-use tokens sent by email.

Each token carries a fingerprint of the state it may change (the address being
verified, the deletion being undone, the password being replaced): once that state
moves on, the token no longer matches, so it works once.
"""

import hashlib

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.models import User

_VERIFY_SALT = "accounts.email-verification"
_RECOVERY_SALT = "accounts.account-recovery"


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:20]


def _verification_state(user: User) -> str:
    return _fingerprint(user.pk, user.email, user.pending_email, user.is_verified)


def verification_address(user: User) -> str:
    """The address a verification email goes to: the pending one, else the current one."""
    return user.pending_email or user.email


def email_verification_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "s": _verification_state(user)}, salt=_VERIFY_SALT)


def email_verification_user(token: str) -> User | None:
    try:
        payload = signing.loads(
            token, salt=_VERIFY_SALT, max_age=settings.EMAIL_VERIFICATION_TIMEOUT_SECONDS
        )
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=payload.get("u")).first()
    if user is None or payload.get("s") != _verification_state(user):
        return None
    return user


def password_reset_token(user: User) -> str:
    """Django's reset token (bound to the password hash and last login) with the user id."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{uid}.{default_token_generator.make_token(user)}"


def password_reset_user(token: str) -> User | None:
    uid, _, secret = (token or "").partition(".")
    try:
        user_id = force_str(urlsafe_base64_decode(uid))
    except (ValueError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=user_id).first() if user_id.isdigit() else None
    if user is None or not default_token_generator.check_token(user, secret):
        return None
    return user


def _recovery_state(user: User) -> str:
    return _fingerprint(user.pk, user.status, user.deleted_at)


def account_recovery_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "s": _recovery_state(user)}, salt=_RECOVERY_SALT)


def account_recovery_user(token: str) -> User | None:
    max_age = settings.ACCOUNT_RECOVERY_DAYS * 24 * 3600
    try:
        payload = signing.loads(token, salt=_RECOVERY_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=payload.get("u")).first()
    if user is None or payload.get("s") != _recovery_state(user):
        return None
    return user
