"""Password hashers (PASSWORD_HASHERS): the first one, chosen by PASSWORD_HASH_ALGORITHM,
makes every new hash; each one verifies its own, whatever is configured."""

from django.conf import settings
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    BCryptSHA256PasswordHasher,
    make_password,
)


class ConfiguredBCryptSHA256PasswordHasher(BCryptSHA256PasswordHasher):
    """bcrypt over SHA-256 (no 72-byte truncation) with its cost from BCRYPT_ROUNDS.

    Same algorithm name as Django's hasher, so existing hashes verify, and a hash made
    at another cost is upgraded on the next successful login.
    """

    @property
    def rounds(self) -> int:
        return settings.BCRYPT_ROUNDS


class ConfiguredArgon2PasswordHasher(Argon2PasswordHasher):
    """argon2id with ARGON2_TIME_COST, ARGON2_MEMORY_COST_KIB and ARGON2_PARALLELISM.

    Same algorithm name as Django's hasher (`argon2`), so hashes it made verify; a hash
    made with other parameters is re-made with these on the next successful login
    (Django's `must_update`).
    """

    @property
    def time_cost(self) -> int:
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:
        return settings.ARGON2_MEMORY_COST_KIB

    @property
    def parallelism(self) -> int:
        return settings.ARGON2_PARALLELISM


def hash_for_timing(password: str) -> None:
    """Spend what checking a password costs, for a login naming no account (or one
    without a usable password), so the answer's timing does not tell them apart: one
    hash with the configured hasher, as one check of a current hash takes."""
    make_password(password)
