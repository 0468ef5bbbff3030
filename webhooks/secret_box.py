"""Webhook secrets at rest: encrypted with a key derived from SECRET_KEY.

A secret has to be read back to sign deliveries, so it cannot be hashed. Fernet
(AES-128-CBC with HMAC-SHA256) under a key derived from SECRET_KEY by HKDF, with
SECRET_KEY_FALLBACKS still accepted for reading: rotating SECRET_KEY keeps existing
secrets readable while the old key is among the fallbacks; `secret_box_reencrypt`
moves them to the new key.
"""

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of generated secrets, not one
HINT_LENGTH = 10


class SecretUnreadable(Exception):
    """The stored secret was encrypted under a key this install no longer has."""


def _fernet_for(key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"webhook-endpoint-secret"
    ).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _box() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(key) for key in keys])


def secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_hint(secret: str) -> str:
    return secret[:HINT_LENGTH]


def secret_seal(secret: str) -> str:
    return _box().encrypt(secret.encode()).decode()


def secret_open(sealed: str) -> str:
    try:
        return _box().decrypt(sealed.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable from error


def secret_reseal(sealed: str) -> str:
    """The same secret under the current SECRET_KEY."""
    try:
        return _box().rotate(sealed.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable from error
