from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from core.admin_paging import LargeTableAdminMixin, ip_address_or_none
from security.admin_audit import AuditedModelAdmin, ReadOnlyAdmin
from security.lockout import account_of_key, lockout_key
from security.models import AuditAction, AuditLog, IPAllowlistEntry, IPBlock, SecurityEvent
from security.services.allowlist import allowlist_cache_clear, normalize_network
from security.services.firewall import ip_block_lift
from security.services.lockout import account_unlock


class AuditActionFilter(admin.SimpleListFilter):
    """The actions of the `AuditAction` enum, not a `DISTINCT` scan of the trail;
    served by the action index."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin):
        return AuditAction.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(action=self.value()) if self.value() else queryset


class TargetTypeFilter(admin.SimpleListFilter):
    """The installed models (a target type is a model's label), not a `DISTINCT`
    scan of the trail; served by audit_target_idx."""

    title = "target type"
    parameter_name = "target_type"

    def lookups(self, request: HttpRequest, model_admin):
        labels = sorted(model._meta.label_lower for model in apps.get_models())
        return [(label, label) for label in labels]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(target_type=self.value()) if self.value() else queryset


def exact_search(queryset: QuerySet, term: str, fields: tuple[str, ...]) -> QuerySet:
    """Rows whose field equals the whole term, each field through its own index; an
    IP address also matches `ip_address`. A substring search would read the table."""
    term = term.strip()
    if not term:
        return queryset
    match = Q()
    for field in fields:
        match |= Q(**{field: term})
    address = ip_address_or_none(term)
    if address is not None:
        match |= Q(ip_address=address)
    return queryset.filter(match)


@admin.register(AuditLog)
class AuditLogAdmin(LargeTableAdminMixin, ReadOnlyAdmin):
    """The trail, newest first: estimated counts, filters from the enums and a plain
    date filter (a date drill-down would scan the table for its years and months),
    exact searches through indexes."""

    list_display = (
        "occurred_at",
        "actor_kind",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "ip_address",
    )
    list_filter = (
        ("occurred_at", admin.DateFieldListFilter),
        "actor_kind",
        AuditActionFilter,
        TargetTypeFilter,
    )
    search_fields = ("actor_label", "action", "target_id", "request_id")
    search_help_text = "An exact actor username, action, target id, request id or IP address."

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        return exact_search(queryset, search_term, self.search_fields), False


@admin.register(SecurityEvent)
class SecurityEventAdmin(LargeTableAdminMixin, ReadOnlyAdmin):
    """Security events, newest first; see AuditLogAdmin for the rules of a large list."""

    list_display = ("occurred_at", "severity", "kind", "username", "ip_address", "path")
    list_filter = (("occurred_at", admin.DateFieldListFilter), "severity", "kind")
    search_fields = ("username", "request_id")
    search_help_text = "An exact username, request id or IP address."

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        return exact_search(queryset, search_term, self.search_fields), False


class IPAllowlistEntryForm(forms.ModelForm):
    class Meta:
        model = IPAllowlistEntry
        fields = ("network", "description", "expires_at")

    def clean_network(self) -> str:
        return normalize_network(self.cleaned_data["network"])


@admin.register(IPAllowlistEntry)
class IPAllowlistEntryAdmin(AuditedModelAdmin):
    form = IPAllowlistEntryForm
    list_display = ("network", "description", "expires_at", "created_at")
    search_fields = ("network", "description")

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        if not change:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)
        allowlist_cache_clear()

    def delete_model(self, request: HttpRequest, obj) -> None:
        super().delete_model(request, obj)
        allowlist_cache_clear()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        super().delete_queryset(request, queryset)
        allowlist_cache_clear()


@admin.register(IPBlock)
class IPBlockAdmin(ReadOnlyAdmin):
    list_display = ("ip_address", "reason", "created_at", "blocked_until", "lifted_at")
    search_fields = ("ip_address",)
    actions = ["lift_blocks"]

    @admin.action(description="Lift the selected blocks")
    def lift_blocks(self, request: HttpRequest, queryset: QuerySet) -> None:
        for block_id in queryset.values_list("pk", flat=True):
            ip_block_lift(block_id=block_id, actor=request.user)
        self.message_user(request, "Blocks lifted.", messages.SUCCESS)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Needed for the action, so it is the model's change permission (which
        # ReadOnlyAdmin refuses to everyone); the change form shows nothing editable.
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [field.name for field in self.model._meta.fields]


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    """Axes' failure records; unlocking goes through the audited service.

    Failures count under `USER:<id>` for a known account: the list names the account
    and a search by its username or email finds its records.
    """

    actions = ["unlock_accounts"]
    list_display = [
        *AxesAccessAttemptAdmin.list_display[:3],
        "account",
        *AxesAccessAttemptAdmin.list_display[3:],
    ]

    @admin.display(description="Account")
    def account(self, attempt: AccessAttempt) -> str:
        user = account_of_key(attempt.username)
        return f"{user.username} <{user.email}>" if user else "(no such account)"

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        key = lockout_key(search_term)
        if key is not None:
            found = found | queryset.filter(username=key)
        return found, may_have_duplicates

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_unlock_permission(self, request: HttpRequest) -> bool:
        # Seeing failures (view) is not lifting them: unlocking needs the change permission.
        return request.user.has_perm("axes.change_accessattempt")

    @admin.action(description="Unlock the selected accounts", permissions=["unlock"])
    def unlock_accounts(self, request: HttpRequest, queryset: QuerySet) -> None:
        identifiers = set(queryset.values_list("username", flat=True))
        for identifier in identifiers:
            account_unlock(identifier=identifier, actor=request.user)
        self.message_user(request, f"{len(identifiers)} account(s) unlocked.", messages.SUCCESS)
