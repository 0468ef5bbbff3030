"""The password rules: the policy check, expiry (PASSWORD_EXPIRY_DAYS), and the
validators beyond Django's own that AUTH_PASSWORD_VALIDATORS picks."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_otp import user_has_device

from accounts.errors import AccountErrorCode
from accounts.models import User
from core.errors import ValidationFailed


def password_check_policy(password: str, *, user: User) -> None:
    """Raise ValidationFailed listing every rule the password breaks."""
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationFailed(
            "Password does not meet the password policy.",
            errors=list(exc.messages),
            code=AccountErrorCode.WEAK_PASSWORD,
        ) from exc


def password_is_expired(user: User) -> bool:
    """PASSWORD_EXPIRY_DAYS (0 = never): an expired password may only be changed."""
    days = settings.PASSWORD_EXPIRY_DAYS
    if not days or user.password_changed_at is None:
        return False
    return user.password_changed_at + timedelta(days=days) <= timezone.now()


class CompositionValidator:
    """The default policy: at least one upper-case letter, one lower-case letter, one digit."""

    _RULES = (
        (str.isupper, "password_no_upper", "at least one upper-case letter"),
        (str.islower, "password_no_lower", "at least one lower-case letter"),
        (str.isdigit, "password_no_digit", "at least one digit"),
    )

    def validate(self, password: str, user=None) -> None:
        errors = [
            ValidationError(f"This password must contain {text}.", code=code)
            for check, code, text in self._RULES
            if not any(check(char) for char in password)
        ]
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return "Your password must contain an upper-case letter, a lower-case letter and a digit."


class MaximumLengthValidator:
    """Refuse absurd lengths; the serializers refuse them again before any hashing."""

    def __init__(self, max_length: int = 1024) -> None:
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is longer than {self.max_length} characters.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Your password can be at most {self.max_length} characters long."


class NistLengthValidator:
    """NIST SP 800-63B length rule: 15 characters for single-factor accounts, 8 with MFA."""

    def __init__(self, single_factor_min: int = 15, multi_factor_min: int = 8) -> None:
        self.single_factor_min = single_factor_min
        self.multi_factor_min = multi_factor_min

    def _minimum_for(self, user) -> int:
        has_mfa = user is not None and user.pk is not None and user_has_device(user)
        return self.multi_factor_min if has_mfa else self.single_factor_min

    def validate(self, password: str, user=None) -> None:
        minimum = self._minimum_for(user)
        if len(password) < minimum:
            raise ValidationError(
                f"This password is too short. It must contain at least {minimum} characters.",
                code="password_too_short",
            )

    def get_help_text(self) -> str:
        return (
            f"Your password must contain at least {self.single_factor_min} characters "
            f"({self.multi_factor_min} once multi-factor authentication is on)."
        )
