"""Admin changelist pages of large tables without `COUNT(*)` over the table."""

import ipaddress

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


def table_row_estimate(queryset: QuerySet) -> int | None:
    """The planner's row count of the queryset's table (`pg_class.reltuples`, kept by
    ANALYZE and autovacuum); None off PostgreSQL or before the table was analysed."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class LargeTablePaginator(Paginator):
    """Counts as a large table can afford: exactly up to COUNT_CAP rows (`COUNT(*)`
    over a `LIMIT` subquery, a short index scan at any table size); beyond, the
    planner's estimate of the whole table when the list is unfiltered, else the cap.
    Counting first keeps small lists exact even when the estimate is stale. Pair with
    `show_full_result_count = False` on the ModelAdmin, which otherwise counts the
    whole table a second time."""

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        counted = queryset.order_by()[: self.COUNT_CAP + 1].count()
        if counted <= self.COUNT_CAP:
            return counted
        if not queryset.query.where:
            estimate = table_row_estimate(queryset)
            if estimate is not None and estimate > self.COUNT_CAP:
                return estimate
        return self.COUNT_CAP


class LargeTableAdminMixin:
    """The changelist settings of a table that grows with use (users, sessions, the
    audit trail, events, the conversation log, the ledger): estimated counts, no
    second full count, and no list filter or date drill-down that scans for its
    choices (filters on a choices field or a plain date filter only)."""

    paginator = LargeTablePaginator
    show_full_result_count = False
    list_per_page = 50


def ip_address_or_none(term: str) -> str | None:
    """The term as an IP address, if it is one: an exact, indexed search of an address
    column (a substring search of an `inet` column reads the whole table)."""
    try:
        return str(ipaddress.ip_address(term.strip()))
    except ValueError:
        return None
