"""Redis of its own for each pytest-xdist worker.

pytest-django already gives each worker a test database of its own (the worker's id
is added to its name). Redis is shared: a test empties the cache, reads the message
queue and the event stream, and starts Celery workers on the broker, and the cache
mirror's invalidations (client-side caching) are sent for key names in every
database. So worker `gwN` uses database `(base + N) % 16` of the same server (base:
REDIS_URL's database, or REDIS_DB beside REDIS_HOST) and its own cache key prefix.

Loaded with `-p` (pytest.ini) so that it runs before pytest-django loads the
settings, which read these once; `.env` is read first, as the settings read it.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ

REDIS_DATABASES = 16  # a Redis server's default `databases`


def worker_database(base: int, worker: str) -> int:
    return (base + int(worker.removeprefix("gw"))) % REDIS_DATABASES


def worker_redis_url(url: str, worker: str) -> str:
    """`url` moved to the database of xdist worker `worker` (gw0, gw1, ...)."""
    parts = urlsplit(url)
    database = worker_database(int(parts.path.strip("/") or 0), worker)
    return urlunsplit(parts._replace(path=f"/{database}"))


ENV_FILE = Path(__file__).resolve().parents[2] / ".env"


def use_own_redis(worker: str, env_file: Path = ENV_FILE) -> None:
    """Point this process's REDIS_URL (or REDIS_DB) and CACHE_KEY_PREFIX at worker's own."""
    environ.Env.read_env(env_file, overwrite=False)
    url = os.environ.get("REDIS_URL", "")
    if url.startswith("redis"):
        os.environ["REDIS_URL"] = worker_redis_url(url, worker)
    elif not url and os.environ.get("REDIS_HOST"):
        base = int(os.environ.get("REDIS_DB", "0"))
        os.environ["REDIS_DB"] = str(worker_database(base, worker))
    os.environ["CACHE_KEY_PREFIX"] = f"{os.environ.get('CACHE_KEY_PREFIX', 'um')}-{worker}"


_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw"):
    use_own_redis(_worker)
