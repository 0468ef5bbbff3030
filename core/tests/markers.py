"""Marks for tests that hold only on the servers production runs. CI runs them
(`REQUIRE_SERVICES=1`, `FAIL_ON_SKIP=1`); elsewhere they are skipped, visibly."""

import pytest
from django.conf import settings
from django.db import connection

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's behaviour (extensions, locks, plans): run with DATABASE_URL (CI does)",
)
redis_only = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs Redis: run with REDIS_URL (CI does)"
)
# A query pin counts statements on PostgreSQL with the cache in Redis; on the database
# cache every cache read is a statement too.
production_services_only = pytest.mark.skipif(
    connection.vendor != "postgresql" or not settings.REDIS_URL,
    reason="pins PostgreSQL with the cache in Redis: run with DATABASE_URL and REDIS_URL (CI does)",
)
