from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response


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
