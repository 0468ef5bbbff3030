"""Password hashers (PASSWORD_HASHERS)."""

from django.conf import settings
from django.contrib.auth.hashers import BCryptSHA256PasswordHasher


class ConfiguredBCryptSHA256PasswordHasher(BCryptSHA256PasswordHasher):
    """bcrypt over SHA-256 (no 72-byte truncation) with its cost from BCRYPT_ROUNDS.

    Same algorithm name as Django's hasher, so existing hashes verify, and a hash made
    at another cost is upgraded on the next successful login.
    """

    @property
    def rounds(self) -> int:
        return settings.BCRYPT_ROUNDS
