"""Signing keys for an install that was given none: random, made once, kept locally.

When SECRET_KEY is not in the environment, every process of the install (the web
workers, Celery, management commands) reads SECRET_KEY and JWT_SECRET_KEY from one
git-ignored file (SECRET_KEYS_FILE, `var/secret-keys.env` by default), readable by
its owner only. The file is written in full under a temporary name and then linked
into place, which fails when the file already exists: processes starting at once
all end up with the keys of whichever came first.

The OpenID Connect RS256 key lives in a second file (OIDC_KEYS_FILE,
`var/oidc-keys.env`) unless OIDC_RSA_PRIVATE_KEY is set; `manage.py rotate_oidc_key`
replaces it and keeps the old one published until its ID tokens expire.

`python -m core.signing_keys` creates the files unless the environment (or `.env`)
sets SECRET_KEY (OIDC_RSA_PRIVATE_KEY for the second); `make run` calls it first,
whatever ENVIRONMENT says.
"""

import contextlib
import os
import secrets
import stat
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import environ
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
KEY_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY")
MIN_KEY_LENGTH = 50


def keys_file_path(env: environ.Env) -> Path:
    """SECRET_KEYS_FILE, a relative path being taken from the project directory."""
    return BASE_DIR / (env.str("SECRET_KEYS_FILE", default="") or "var/secret-keys.env")


def new_keys() -> dict[str, str]:
    return {name: secrets.token_urlsafe(64) for name in KEY_NAMES}


def read_keys(path: Path) -> dict[str, str] | None:
    """The keys in the file, or None when there is no file; a bad file is refused."""
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ImproperlyConfigured(
            f"{path} holds the signing keys and must be readable by its owner only "
            f"(chmod 600 {path})."
        )
    keys = {}
    for line in text.splitlines():
        name, _, value = line.partition("=")
        if name.strip() in KEY_NAMES:
            keys[name.strip()] = value.strip()
    if any(len(keys.get(name, "")) < MIN_KEY_LENGTH for name in KEY_NAMES):
        raise ImproperlyConfigured(
            f"{path} does not hold both signing keys ({', '.join(KEY_NAMES)}); "
            "remove it to have new ones made (every login session ends)."
        )
    return keys


def ensure_keys(path: Path) -> dict[str, str]:
    """The file's keys, creating the file with random ones when there is none."""
    keys = read_keys(path)
    if keys is not None:
        return keys
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp creates the file readable and writable by its owner only.
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write("".join(f"{name}={value}\n" for name, value in new_keys().items()))
                handle.flush()
                os.fsync(handle.fileno())
            # Another process may have made it first: then its keys are the install's.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"SECRET_KEY is not set and the local key file {path} cannot be created ({exc}); "
            "set SECRET_KEY and JWT_SECRET_KEY, or SECRET_KEYS_FILE to a writable place."
        ) from exc
    return read_keys(path)


# ---------------------------------------------------------------------------
# The OpenID Connect signing key (RS256), in a file of its own
# ---------------------------------------------------------------------------
# `OIDC_RSA_PRIVATE_KEY=<PEM>` is the key that signs ID tokens now; each
# `OIDC_RSA_RETIRED_KEY=<ISO time> <PEM>` is a key rotated out at that time, still
# published in the JWKS until the ID tokens it signed have expired. PEM newlines are
# written as `\n` so that every key stays on one line.
OIDC_ACTIVE = "OIDC_RSA_PRIVATE_KEY"
OIDC_RETIRED = "OIDC_RSA_RETIRED_KEY"
RSA_KEY_BITS = 2048


@dataclass(frozen=True)
class OidcKeys:
    active: str
    retired: tuple[tuple[datetime, str], ...] = ()

    def inactive_since(self, cutoff: datetime) -> list[str]:
        """The retired keys rotated out after `cutoff` (their tokens may still be live)."""
        return [pem for retired_at, pem in self.retired if retired_at > cutoff]


def oidc_keys_file_path(env: environ.Env) -> Path:
    """OIDC_KEYS_FILE, a relative path being taken from the project directory."""
    return BASE_DIR / (env.str("OIDC_KEYS_FILE", default="") or "var/oidc-keys.env")


def new_rsa_private_key() -> str:
    """A fresh RSA private key in PKCS#8 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _one_line(pem: str) -> str:
    return pem.strip().replace("\n", "\\n")


def _from_line(value: str) -> str:
    return value.strip().replace("\\n", "\n") + "\n"


def _render_oidc_keys(keys: OidcKeys) -> str:
    lines = [f"{OIDC_ACTIVE}={_one_line(keys.active)}"]
    lines += [f"{OIDC_RETIRED}={at.isoformat()} {_one_line(pem)}" for at, pem in keys.retired]
    return "".join(f"{line}\n" for line in lines)


def read_oidc_keys(path: Path) -> OidcKeys | None:
    """The OIDC keys in the file, or None when there is no file; a bad file is refused."""
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ImproperlyConfigured(
            f"{path} holds the OpenID Connect signing keys and must be readable by its owner "
            f"only (chmod 600 {path})."
        )
    active, retired = "", []
    for line in text.splitlines():
        name, _, value = line.partition("=")
        if name.strip() == OIDC_ACTIVE:
            active = _from_line(value)
        elif name.strip() == OIDC_RETIRED:
            stamp, _, pem = value.strip().partition(" ")
            try:
                retired.append((datetime.fromisoformat(stamp), _from_line(pem)))
            except ValueError as exc:
                raise ImproperlyConfigured(f"{path}: a retired key has no valid time.") from exc
    if "PRIVATE KEY" not in active:
        raise ImproperlyConfigured(
            f"{path} does not hold {OIDC_ACTIVE}; remove it to have a new key made "
            "(ID tokens signed with the old one stop verifying)."
        )
    return OidcKeys(active=active, retired=tuple(retired))


def _write_new_file(path: Path, text: str, *, replace: bool) -> None:
    """Write `text` to `path` (owner-only) under a temporary name, then put it in place:
    linked when the file must be new, renamed over it when it is replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
            return
        # Another process may have made it first: then its keys are the install's.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def ensure_oidc_keys(path: Path) -> OidcKeys:
    """The file's OIDC keys, creating the file with a random key when there is none."""
    keys = read_oidc_keys(path)
    if keys is not None:
        return keys
    try:
        _write_new_file(path, _render_oidc_keys(OidcKeys(new_rsa_private_key())), replace=False)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"OIDC_RSA_PRIVATE_KEY is not set and the local key file {path} cannot be created "
            f"({exc}); set OIDC_RSA_PRIVATE_KEY, or OIDC_KEYS_FILE to a writable place."
        ) from exc
    return read_oidc_keys(path)


def rotate_oidc_keys(path: Path, *, keep_after: datetime, now: datetime) -> OidcKeys:
    """Make a new active key; the old one is kept as retired, and retired keys older
    than `keep_after` (their ID tokens have all expired) are dropped."""
    keys = ensure_oidc_keys(path)
    kept = tuple((at, pem) for at, pem in keys.retired if at > keep_after)
    rotated = OidcKeys(active=new_rsa_private_key(), retired=((now, keys.active), *kept))
    _write_new_file(path, _render_oidc_keys(rotated), replace=True)
    return rotated


def main() -> None:
    env = environ.Env()
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    if not env.str(OIDC_ACTIVE, default=""):
        path = oidc_keys_file_path(env)
        existed = path.exists()
        ensure_oidc_keys(path)
        if not existed:
            sys.stdout.write(f"An OpenID Connect signing key was made and kept in {path}.\n")
    if env.str("SECRET_KEY", default=""):
        return
    path = keys_file_path(env)
    existed = path.exists()
    ensure_keys(path)
    if not existed:
        sys.stdout.write(f"Signing keys were made and kept in {path} (keep it private).\n")


if __name__ == "__main__":
    main()
