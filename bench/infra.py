"""PostgreSQL and Redis for the benchmark: reachability, the demo database, versions.

The measured database is filled by `manage.py seed_demo` at the sizes asked for; a
marker (the database's comment) records those sizes once the fill has finished, so
a later run at the same sizes reuses it and any other run recreates it. Redis is
flushed every run so results do not depend on what an earlier run left behind.
"""

import json

import psycopg
import redis
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

CONNECT_TIMEOUT_SECONDS = 3


class ServiceUnavailable(RuntimeError):
    """A server the benchmark needs cannot be reached or may not be used."""


def database_name(database_url: str) -> str:
    return str(conninfo_to_dict(database_url).get("dbname") or "")


def connect(database_url: str, *, dbname: str | None = None) -> psycopg.Connection:
    """An autocommit connection; `dbname` overrides the URL's (CREATE/DROP DATABASE need it)."""
    params = conninfo_to_dict(database_url)
    if dbname is not None:
        params["dbname"] = dbname
    return psycopg.connect(**params, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)


def redis_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=CONNECT_TIMEOUT_SECONDS,
    )


def check_services(database_url: str, redis_url: str) -> None:
    """Raise ServiceUnavailable unless both servers answer and the database is a bench one.

    The database is dropped on every run, so a name without "bench" in it is refused:
    a mistyped BENCH_DATABASE_URL must not destroy a real database.
    """
    name = database_name(database_url)
    if "bench" not in name:
        raise ServiceUnavailable(
            f"refusing to drop database {name!r} (BENCH_DATABASE_URL): "
            "the bench database is recreated each run, so its name must contain 'bench'."
        )
    try:
        with connect(database_url, dbname="postgres") as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        raise ServiceUnavailable(
            f"PostgreSQL is not reachable (start it or set BENCH_DATABASE_URL): {exc}".strip()
        ) from exc
    try:
        redis_client(redis_url).ping()
    except redis.RedisError as exc:
        raise ServiceUnavailable(
            f"Redis is not reachable at {redis_url} (start it or set BENCH_REDIS_URL): {exc}"
        ) from exc


def with_database(database_url: str, name: str) -> str:
    """The URL with its database name replaced."""
    params = conninfo_to_dict(database_url)
    user = params.get("user", "postgres")
    host, port = params.get("host", "127.0.0.1"), params.get("port", "5432")
    password = f":{params['password']}" if params.get("password") else ""
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def demo_marker(database_url: str) -> dict | None:
    """The sizes a finished fill recorded on the database, or None (absent, or unfinished)."""
    name = database_name(database_url)
    with connect(database_url, dbname="postgres") as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    if not row or not row[0]:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


def set_demo_marker(database_url: str, marker: dict) -> None:
    name = sql.Identifier(database_name(database_url))
    with connect(database_url, dbname="postgres") as connection:
        connection.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(name, sql.Literal(json.dumps(marker)))
        )


def recreate_database(database_url: str) -> None:
    """Drop (disconnecting any leftover session) and create the bench database."""
    name = sql.Identifier(database_name(database_url))
    with connect(database_url, dbname="postgres") as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def flush_redis(redis_url: str) -> None:
    """Empty the bench Redis database: cached sessions and limits of a previous run."""
    redis_client(redis_url).flushdb()


def postgres_version(database_url: str) -> str:
    with connect(database_url, dbname="postgres") as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def redis_version(redis_url: str) -> str:
    return str(redis_client(redis_url).info("server").get("redis_version", "unknown"))
