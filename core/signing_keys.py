"""Signing keys for an install that was given none: random, made once, kept locally.

When SECRET_KEY is not in the environment, every process of the install (the web
workers, Celery, management commands) reads SECRET_KEY and JWT_SECRET_KEY from one
git-ignored file (SECRET_KEYS_FILE, `var/secret-keys.env` by default), readable by
its owner only. The file is written in full under a temporary name and then linked
into place, which fails when the file already exists: processes starting at once
all end up with the keys of whichever came first.

`python -m core.signing_keys` creates the file unless the environment (or `.env`)
sets SECRET_KEY; `make run` calls it first, whatever ENVIRONMENT says.
"""

import contextlib
import os
import secrets
import stat
import sys
import tempfile
from pathlib import Path

import environ
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


def main() -> None:
    env = environ.Env()
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    if env.str("SECRET_KEY", default=""):
        return
    path = keys_file_path(env)
    existed = path.exists()
    ensure_keys(path)
    if not existed:
        sys.stdout.write(f"Signing keys were made and kept in {path} (keep it private).\n")


if __name__ == "__main__":
    main()
