"""The Django admin pages of credits: a balance changes only through `credits_set`,
with a reason, so every change leaves a ledger row and an audit row; the ledger
itself is read-only. Plans are edited here (audited); a plan in use cannot be
deleted, only deactivated; the plan history is read-only."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.http import HttpRequest

from core.admin_paging import LargeTableAdminMixin
from credits.models import CreditAccount, CreditLedgerEntry, Plan, PlanChange
from credits.services import MAX_BALANCE, credits_set
from security.admin_audit import AllOrNothingModelAdmin, AuditedModelAdmin, ReadOnlyAdmin

# Form field -> (group, name) of the `credits` and `limits` objects `credits_set` takes.
_BALANCE_FIELDS = {
    "main_credits": ("credits", "main"),
    "main_reset": ("credits", "reset"),
    "conversation_limit": ("limits", "conversation_limit"),
    "conversation_reset": ("limits", "reset"),
}


def _balance_field() -> forms.IntegerField:
    return forms.IntegerField(min_value=0, max_value=MAX_BALANCE)


class CreditAccountForm(forms.ModelForm):
    main_credits = _balance_field()
    main_reset = _balance_field()
    conversation_limit = _balance_field()
    conversation_reset = _balance_field()
    reason = forms.CharField(
        max_length=500,
        help_text="Why the balance changes; kept in the ledger and the audit trail.",
    )

    class Meta:
        model = CreditAccount
        fields = tuple(_BALANCE_FIELDS)


@admin.register(CreditAccount)
class CreditAccountAdmin(LargeTableAdminMixin, AllOrNothingModelAdmin):
    """Balances: the change form calls `credits_set` (its role check, ledger row and
    audit row), never a plain save; accounts are created by the service, not here."""

    form = CreditAccountForm
    list_display = (
        "user",
        "main_credits",
        "main_reset",
        "conversation_limit",
        "conversation_reset",
        "used_today",
        "last_reset_on",
        "updated_at",
    )
    list_filter = ("last_reset_on",)
    search_fields = ("user__username", "user__email")
    search_help_text = "Part of the account's username or email."
    list_select_related = ("user",)
    ordering = ("-updated_at",)
    readonly_fields = ("user", "used_today", "last_reset_on", "updated_at")
    fieldsets = (
        (None, {"fields": ("user", "used_today", "last_reset_on", "updated_at")}),
        ("Balance", {"fields": (*_BALANCE_FIELDS, "reason")}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: CreditAccount, form, change: bool) -> None:
        groups: dict[str, dict] = {"credits": {}, "limits": {}}
        for field in form.changed_data:
            if field in _BALANCE_FIELDS:
                group, name = _BALANCE_FIELDS[field]
                groups[group][name] = form.cleaned_data[field]
        # Nothing changed is the service's NOTHING_TO_CHANGE, shown as "Nothing changed".
        credits_set(
            user=obj.user,
            actor=request.user,
            credits=groups["credits"] or None,
            limits=groups["limits"] or None,
            reason=form.cleaned_data["reason"],
        )

    def save_related(self, request, form, formsets, change) -> None:
        """No relations are edited here."""


@admin.register(CreditLedgerEntry)
class CreditLedgerEntryAdmin(LargeTableAdminMixin, ReadOnlyAdmin):
    """Every staff change and refund of a balance; nobody adds, changes or deletes one.
    A search names the account (the user table's trigram indexes), not the reason,
    whose substring search would read the whole ledger."""

    list_display = ("created_at", "account_user", "kind", "reason", "actor_id")
    list_filter = ("kind", "created_at")
    search_fields = ("account__user__username", "account__user__email")
    search_help_text = "Part of the account's username or email."
    list_select_related = ("account__user",)
    readonly_fields = ("account", "kind", "reason", "actor_id", "before", "after", "created_at")

    @admin.display(description="User", ordering="account__user__username")
    def account_user(self, entry: CreditLedgerEntry) -> str:
        return str(entry.account.user)


@admin.register(Plan)
class PlanAdmin(AuditedModelAdmin):
    """Plans: every add, change and delete is audited (`admin.plan.*`). The code is
    fixed once made (users hold it); deleting a plan some user is on is refused (the
    admin lists who): deactivate it instead. New amounts reach a user's account at
    their next plan change, not at once."""

    list_display = (
        "code",
        "name",
        "main_reset",
        "conversation_reset",
        "is_active",
        "position",
        "user_count",
    )
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    ordering = ("position", "code")
    fields = (
        "code",
        "name",
        "description",
        "main_reset",
        "conversation_reset",
        "is_active",
        "position",
    )

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(user_total=Count("users"))

    @admin.display(description="Users", ordering="user_total")
    def user_count(self, plan: Plan) -> int:
        return plan.user_total

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ("code",) if obj is not None else ()


@admin.register(PlanChange)
class PlanChangeAdmin(ReadOnlyAdmin):
    """Every change of a user's plan; nobody adds, changes or deletes one."""

    list_display = ("created_at", "user", "from_plan", "to_plan", "reason", "actor_id")
    list_filter = ("to_plan", "created_at")
    search_fields = ("user__username", "user__email", "reason")
    list_select_related = ("user",)
    readonly_fields = ("user", "from_plan", "to_plan", "reason", "actor_id", "created_at")
