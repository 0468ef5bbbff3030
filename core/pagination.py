from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

from core.admin_paging import LargeTablePaginator
from core.errors import NotFound, ValidationFailed


class EnvelopePagination(PageNumberPagination):
    """`?page=1&page_size=50`, answered as `{"success", "pagination", "results"}`."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response(self, data) -> Response:
        return Response(
            {
                "success": True,
                "pagination": {
                    "page": self.page.number,
                    "page_size": self.page.paginator.per_page,
                    "total": self.page.paginator.count,
                    "pages": self.page.paginator.num_pages,
                },
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        page_fields = ("page", "page_size", "total", "pages")
        return {
            "type": "object",
            "required": ["success", "pagination", "results"],
            "properties": {
                "success": {"type": "boolean"},
                "pagination": {
                    "type": "object",
                    "required": list(page_fields),
                    "properties": {name: {"type": "integer"} for name in page_fields},
                },
                "results": schema,
            },
        }


class EnvelopeCursorPagination(CursorPagination):
    """Keyset pages for tables too large to count: `?cursor=…&page_size=50`, answered
    as `{"success", "next", "previous", "results"}`; `next` and `previous` are links.
    Subclasses name the `ordering`, whose first field the index serves."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        """A cursor is not signed: one whose position does not fit the ordering's field
        (edited by hand) is refused as an undecodable one is (404), not answered 500."""
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, DjangoValidationError) as error:
            raise NotFound(self.invalid_cursor_message) from error

    def get_paginated_response(self, data) -> Response:
        return Response(
            {
                "success": True,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["success", "next", "previous", "results"],
            "properties": {
                "success": {"type": "boolean"},
                "next": link,
                "previous": link,
                "results": schema,
            },
        }


class PageOrCursorPagination(EnvelopePagination):
    """A list that can grow large: `?page=` pages as before (counted, and no deeper
    than MAX_DEPTH rows, since an OFFSET walks every row it skips), or keyset pages
    once the request carries `cursor` (empty for the first page, then the `next` or
    `previous` link), in the order the queryset already has, ended by its primary key
    so that every row has one place. A keyset page costs the same at any depth and
    counts nothing. A page's `total` is exact up to LargeTablePaginator.COUNT_CAP rows
    (as deep as pages go); beyond, the table's estimate when unfiltered, else the cap."""

    MAX_DEPTH = LargeTablePaginator.COUNT_CAP
    django_paginator_class = LargeTablePaginator
    cursor_query_param = EnvelopeCursorPagination.cursor_query_param

    def paginate_queryset(self, queryset, request, view=None):
        self.keyset = None
        if self.cursor_query_param in request.query_params:
            self.keyset = EnvelopeCursorPagination()
            self.keyset.ordering = keyset_ordering(queryset)
            self.keyset.page_size = self.page_size
            return self.keyset.paginate_queryset(queryset, request, view)
        self.refuse_deep_page(request)
        return super().paginate_queryset(queryset, request, view)

    def refuse_deep_page(self, request) -> None:
        number = request.query_params.get(self.page_query_param, "1")
        if not number.isdigit():
            return  # the page class answers a bad number
        depth = (int(number) - 1) * self.get_page_size(request)
        if depth >= self.MAX_DEPTH:
            raise ValidationFailed(
                f"page: pages reach {self.MAX_DEPTH} rows deep; follow `cursor` links "
                "(start with `cursor=`) or narrow the filters to go further.",
            )

    def get_paginated_response(self, data) -> Response:
        if self.keyset is not None:
            return self.keyset.get_paginated_response(data)
        return super().get_paginated_response(data)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paged = super().get_paginated_response_schema(schema)
        keyset = EnvelopeCursorPagination().get_paginated_response_schema(schema)
        return {
            "type": "object",
            "required": ["success", "results"],
            "description": "`pagination` with `page`; `next` and `previous` with `cursor`.",
            "properties": {**paged["properties"], **keyset["properties"]},
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        cursor = {
            "name": self.cursor_query_param,
            "required": False,
            "in": "query",
            "description": (
                "Keyset pages: empty for the first page, then the `next` or `previous` "
                "link's value. Never counted, the same cost at any depth."
            ),
            "schema": {"type": "string"},
        }
        return [*super().get_schema_operation_parameters(view), cursor]


def keyset_ordering(queryset) -> tuple[str, ...]:
    """The queryset's ordering (or its model's), ended by the primary key in the
    direction of the first field; only plain field names (what a cursor can hold)."""
    ordering = list(queryset.query.order_by or queryset.model._meta.ordering or ["pk"])
    if any(not isinstance(field, str) or "__" in field for field in ordering):
        raise TypeError(f"keyset pages need plain field names, not {ordering!r}")
    if not {"pk", "-pk", "id", "-id"} & set(ordering):
        ordering.append("-pk" if ordering[0].startswith("-") else "pk")
    return tuple(ordering)
