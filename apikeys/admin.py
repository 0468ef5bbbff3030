"""The Django admin page of API keys: seen, searched and revoked, never created,
edited or deleted here; the digest is never shown. Revoking goes through the
revoke service (its role check, audit row and cache entry), so a key dies at once."""

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apikeys.models import APIKey
from apikeys.services import apikey_revoke
from security.admin_audit import AllOrNothingModelAdmin


class RevokedFilter(admin.SimpleListFilter):
    title = "revoked"
    parameter_name = "revoked"

    def lookups(self, request, model_admin):
        return (("yes", "Revoked"), ("no", "Not revoked"))

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(revoked_at__isnull=True)
        return queryset


class ExpiredFilter(admin.SimpleListFilter):
    title = "expired"
    parameter_name = "expired"

    def lookups(self, request, model_admin):
        return (("yes", "Expired"), ("no", "Not expired"))

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        expired = Q(expires_at__isnull=False, expires_at__lte=timezone.now())
        if self.value() == "yes":
            return queryset.filter(expired)
        if self.value() == "no":
            return queryset.exclude(expired)
        return queryset


@admin.register(APIKey)
class APIKeyAdmin(AllOrNothingModelAdmin):
    list_display = (
        "user",
        "name",
        "masked",
        "scopes",
        "is_primary",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = (RevokedFilter, ExpiredFilter, "is_primary")
    search_fields = ("user__username", "user__email", "name", "=prefix")
    list_select_related = ("user",)
    ordering = ("-created_at",)
    # Never the digest: it is all an attacker with the page would need to match a key.
    fields = list_display
    readonly_fields = fields
    actions = ["revoke_keys"]

    @admin.display(description="Key")
    def masked(self, key: APIKey) -> str:
        return key.masked

    def lookup_allowed(self, lookup: str, value, request=None) -> bool:
        # Django lets the address filter on any field of the model: never on the digest,
        # which `?digest__startswith=` would read out a character at a time (400).
        return lookup.split("__")[0] != "digest" and super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        # A pasted masked key (pe-abcd…wxyz) or clear key is found by its prefix.
        term = search_term.strip()
        if term.startswith("pe-") and len(term) > 3:
            return queryset.filter(prefix__startswith=term[3:].split("…")[0][:8]), False
        return super().get_search_results(request, queryset, search_term)

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("apikeys.change_apikey")

    @admin.action(description="Revoke selected keys", permissions=["revoke"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet) -> None:
        keys = list(queryset.select_related("user").filter(revoked_at__isnull=True))
        for key in keys:
            apikey_revoke(key=key, actor=request.user)
        self.message_user(request, f"{len(keys)} key(s) revoked.", messages.SUCCESS)
