"""The Django admin page of the message log: read-only, fast on the busiest table
(no count of the whole table, searches through the user index), and opening one
conversation is audited as the API's read of a user's conversations."""

import json

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts.models import User
from core.admin_paging import LargeTableAdminMixin
from core.ids import id_from_text
from messagelog.models import MessageLog
from messagelog.services import message_log_entry_read
from security.admin_audit import ReadOnlyAdmin


@admin.register(MessageLog)
class MessageLogAdmin(LargeTableAdminMixin, ReadOnlyAdmin):
    list_display = ("timestamp", "username", "email", "user_id", "model", "tokens_used")
    # A plain filter on the indexed time; date_hierarchy would scan the table for its years.
    list_filter = (("timestamp", admin.DateFieldListFilter),)
    search_fields = ("username", "email")
    list_per_page = 50
    # The log keeps a plain user id and the name and email of the time (it outlives
    # its users), so the list joins nothing.
    list_select_related = False
    fields = (
        "id",
        "timestamp",
        "user_id",
        "username",
        "email",
        "model",
        "r_type",
        "research_enabled",
        "tokens_used",
        "processing_time_ms",
        "ip_address",
        "conversation",
    )
    readonly_fields = fields

    @admin.display(description="Messages")
    def conversation(self, entry: MessageLog) -> str:
        return format_html(
            '<pre style="white-space: pre-wrap">{}</pre>',
            json.dumps(entry.messages, indent=2, ensure_ascii=False, sort_keys=True),
        )

    def lookup_allowed(self, lookup: str, value, request=None) -> bool:
        # Django lets the address filter on any field of the model: never on what was
        # said (`?messages__icontains=`), which would search every user's conversations
        # without opening one, so without an audit row (400).
        return lookup.split("__")[0] != "messages" and super().lookup_allowed(
            lookup, value, request
        )

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """A username, email or user id names the accounts whose conversations are
        listed, found through messagelog_user_time_idx rather than a scan of the log
        (a purged account's rows keep neither name nor email to search by)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        # The unique indexes on LOWER(username) and LOWER(email) answer this.
        lowered = term.lower()
        user_ids = list(
            User.objects.filter(Q(username__lower=lowered) | Q(email__lower=lowered)).values_list(
                "pk", flat=True
            )[:100]
        )
        typed_id = id_from_text(term)
        if typed_id is not None:
            user_ids.append(typed_id)
        return queryset.filter(user_id__in=user_ids), False

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            entry = self.get_object(request, object_id)
            if entry is not None:
                message_log_entry_read(actor=request.user, entry=entry)
        return response
