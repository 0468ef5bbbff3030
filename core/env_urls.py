"""Build connection URLs from the documented variables.

The same connection can be given three ways (a DATABASE_URL, POSTGRES_* parts,
DATABASE_* parts); all three are accepted, the URL winning.
"""

import re
from pathlib import Path
from urllib.parse import quote

import environ

# "sqlite+aiosqlite://" and "postgresql+asyncpg://" name an async driver; the
# database behind them is the same.
_DRIVER_SUFFIX = re.compile(r"^(?P<scheme>[a-z0-9]+)\+[a-z0-9_]+://")


def database_url_from_env(env: environ.Env, *, default_sqlite_path: Path) -> str:
    """Return one database URL from DATABASE_URL, the part variables, or SQLite.

    The SQLite file's folder is made by `make migrate`, not here: settings only read.
    """
    url = env.str("DATABASE_URL", default="")
    if url:
        return _DRIVER_SUFFIX.sub(lambda m: f"{m['scheme']}://", url)
    for prefix, name_var in (("POSTGRES", "POSTGRES_DB"), ("DATABASE", "DATABASE_NAME")):
        host = env.str(f"{prefix}_HOST", default="")
        if host:
            user = quote(env.str(f"{prefix}_USER", default="postgres"), safe="")
            password = quote(env.str(f"{prefix}_PASSWORD", default=""), safe="")
            credentials = f"{user}:{password}@" if password else f"{user}@"
            port = env.int(f"{prefix}_PORT", default=5432)
            name = env.str(name_var, default="user_management")
            return f"postgres://{credentials}{host}:{port}/{name}"
    return f"sqlite:///{default_sqlite_path}"


def redis_url_from_env(env: environ.Env) -> str:
    """Return REDIS_URL, or one built from REDIS_HOST/PORT/DB, or '' for none."""
    url = env.str("REDIS_URL", default="")
    if url:
        return url
    host = env.str("REDIS_HOST", default="")
    if not host:
        return ""
    return f"redis://{host}:{env.int('REDIS_PORT', default=6379)}/{env.int('REDIS_DB', default=0)}"
