"""The Django admin pages of accounts; their changes go through the services or drop
the cached copies of the users they change."""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import password_validation
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import smart_split, unescape_string_literal

from accounts.auth.request_cache import forget_cached_user
from accounts.authz.roles import BuiltinRole, Permission
from accounts.models import LoginSession, PreferenceChange, Role, User
from accounts.phones import phone_normalise
from accounts.preferences import validate_preferences
from accounts.selectors import USER_SEARCH_COLUMNS, user_has_mfa, users_matching
from accounts.services import avatars, lifecycle, mfa, roles, users
from accounts.services.preferences import preferences_replace
from accounts.services.sessions import sessions_revoke_each, sessions_revoke_for_user
from apikeys.models import APIKey
from apikeys.services import apikey_revoke
from core.admin_filters import TypedLookupFilter
from core.admin_paging import LargeTableAdminMixin, ip_address_or_none
from core.errors import CommonErrorCode, Forbidden, ServiceError
from credits.models import CreditAccount, Plan
from credits.selectors import plan_history_of
from credits.services import plan_change
from messagelog.models import MessageLog
from security.admin_audit import AllOrNothingModelAdmin, AuditedModelAdmin, unless_refused
from security.lockout import account_key, user_locked_until
from security.models import AuditAction, AuditLog
from security.services.audit import audit_record
from security.services.lockout import account_unlock

# ----- forms -----------------------------------------------------------------------


class UserAddForm(forms.ModelForm):
    """ "Add user": what the user admin API takes; saved by `user_create_by_admin`
    (role, password policy, audit row, primary API key, credit account)."""

    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password confirmation",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    # Not the model's `role`: a role name, resolved in the tenant by the service.
    role_name = forms.ChoiceField(label="Role", initial=BuiltinRole.USER)

    class Meta:
        model = User
        fields = ("username", "email", "name", "tenant")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = Role.objects.order_by("name").values_list("name", flat=True).distinct()
        self.fields["role_name"].choices = [(name, name) for name in names]

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict:
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two password fields didn't match.")
        elif first:
            candidate = User(
                username=data.get("username") or "",
                email=data.get("email") or "",
                name=data.get("name") or "",
            )
            try:
                password_validation.validate_password(first, user=candidate)
            except forms.ValidationError as error:
                self.add_error("password2", error)
        return data


class UserEditForm(UserChangeForm):
    """The user page's form: never Django's groups and permissions (roles are the one
    permission system); two ticks run the unlock and MFA reset services."""

    unlock_account = forms.BooleanField(
        required=False,
        label="Unlock the account",
        help_text="Clear the failed logins that lock it (audited).",
    )
    reset_mfa = forms.BooleanField(
        required=False,
        label="Reset MFA",
        help_text="Remove its authenticator and recovery codes (lost phone; audited).",
    )
    remove_avatar = forms.BooleanField(
        required=False,
        label="Remove the avatar",
        help_text="Delete the picture and its file (audited).",
    )

    class Meta(UserChangeForm.Meta):
        model = User
        exclude = ("groups", "user_permissions")

    def clean_phone(self) -> str:
        """Stored in E.164, as the API stores it."""
        try:
            return phone_normalise(self.cleaned_data.get("phone") or "")
        except ServiceError as error:
            raise forms.ValidationError(error.message, code="invalid") from error

    def clean_preferences(self) -> dict:
        """A changed document is checked as the API checks it (each bad path named);
        an unchanged one is left alone, even if a rule changed since it was stored."""
        value = self.cleaned_data.get("preferences")
        if value != self.initial.get("preferences"):
            validate_preferences(value)
        return value


class RevokeForm(forms.ModelForm):
    """A row of a read-only list with one tick: revoke it through its service."""

    revoke = forms.BooleanField(required=False)

    class Meta:
        fields = ()


class EraseForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why the accounts are erased (the erasure request); kept in the audit trail.",
    )


# ----- the lists on the user page ----------------------------------------------------


class BoundedInline(admin.TabularInline):
    """A read-only list of the user's rows, newest first and at most `limit` of them;
    nobody adds, edits or deletes a row here."""

    limit = 20
    order_by = "-created_at"
    extra = 0
    max_num = 0
    can_delete = False
    form = RevokeForm

    def bounded(self, queryset: QuerySet, user: User) -> QuerySet:
        newest = queryset.filter(user_id=user.pk).order_by(self.order_by).values("pk")
        return queryset.filter(pk__in=newest[: self.limit]).order_by(self.order_by)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class LoginSessionInline(BoundedInline):
    """Its sessions; "revoke" ends one through `sessions_revoke_each` (audited, the
    access tokens refused at once), never a delete. The refresh token id is not shown."""

    model = LoginSession
    verbose_name = "login session"
    verbose_name_plural = "Login sessions (newest 20)"
    fields = (
        "surface",
        "ip_address",
        "user_agent",
        "created_at",
        "last_seen_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
        "revoke",
    )
    readonly_fields = fields[:-1]


class APIKeyInline(BoundedInline):
    """Its API keys, masked (never the digest); "revoke" goes through `apikey_revoke`."""

    model = APIKey
    verbose_name = "API key"
    verbose_name_plural = "API keys (newest 20)"
    fields = (
        "name",
        "masked",
        "scopes",
        "is_primary",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoke",
    )
    readonly_fields = fields[:-1]

    @admin.display(description="Key")
    def masked(self, key: APIKey) -> str:
        return key.masked


def _table(headers: tuple[str, ...], rows) -> str:
    """An HTML table of escaped cells (a cell may be a `format_html` link)."""
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


# ----- the user admin ---------------------------------------------------------------


class TenantSlugFilter(TypedLookupFilter):
    title = "tenant"
    parameter_name = "tenant__slug"
    placeholder = "slug"


class RoleNameFilter(TypedLookupFilter):
    title = "role"
    parameter_name = "role__name"
    placeholder = "name, e.g. moderator"


@admin.register(User)
class UserAdmin(LargeTableAdminMixin, AuditedModelAdmin, DjangoUserAdmin):
    """The user page: profile, status, role and tenant first; then the account's lock
    and MFA state, credits, recent conversations (links only), audit history, sessions
    and API keys. Every change goes through the services the API calls.

    The list is estimated, never counted whole; every filter is a choices or boolean
    field or a value typed in (a tenant's slug, a role's name), and the substring
    search is served by the trigram indexes of migration 0013 on PostgreSQL."""

    form = UserEditForm
    add_form = UserAddForm
    inlines = (LoginSessionInline, APIKeyInline)
    filter_horizontal = ()
    list_display = (
        "username",
        "email",
        "name",
        "status",
        "role",
        "tenant",
        "is_staff",
        "created_at",
    )
    list_filter = (
        "status",
        "is_staff",
        "is_superuser",
        "is_verified",
        "user_type",
        RoleNameFilter,
        TenantSlugFilter,
    )
    search_fields = USER_SEARCH_COLUMNS
    search_help_text = (
        "Words of a username, email or name: each word of three characters or more "
        "is found anywhere in one of them, a shorter one at the start of one; "
        "every word must match."
    )
    ordering = ("-created_at",)
    list_select_related = ("role", "tenant")
    readonly_fields = (
        "avatar_preview",
        "lock_state",
        "mfa_state",
        "credit_summary",
        "plan_history",
        "recent_conversations",
        "audit_history",
        "last_login",
        "password_changed_at",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted_by",
        "status_before_deletion",
    )
    actions = [
        "suspend_users",
        "activate_users",
        "make_moderators",
        "make_users",
        "reset_mfa",
        "delete_recoverably",
        "erase_users",
    ]
    fieldsets = (
        (None, {"fields": ("username", "email", "name", "password")}),
        (
            "Status, role and tenant",
            {"fields": ("status", "role", "tenant", "is_verified")},
        ),
        ("Billing", {"fields": ("subscription_plan", "billing_email", "plan_history")}),
        (
            "Profile",
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "user_type",
                    "about_me",
                    "hobbies",
                    "phone",
                    "avatar_preview",
                    "remove_avatar",
                    "preferences",
                )
            },
        ),
        (
            "Sign-in security",
            {"fields": ("lock_state", "unlock_account", "mfa_state", "reset_mfa")},
        ),
        ("Credits", {"fields": ("credit_summary",)}),
        ("Recent conversations", {"fields": ("recent_conversations",)}),
        ("Audit history", {"fields": ("audit_history",)}),
        ("Staff", {"fields": ("is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "password_changed_at", "created_at", "updated_at")}),
        ("Deletion", {"fields": ("deleted_at", "deleted_by", "status_before_deletion")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "name",
                    "password1",
                    "password2",
                    "role_name",
                    "tenant",
                ),
            },
        ),
    )

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """Each word (quotes keep a phrase whole) narrows the list to the users
        `users_matching` finds for it: the trigram indexes find the ids, and the
        page fetches them by primary key (docs/security.md, the admin site)."""
        words = []
        for word in smart_split(search_term):
            if word.startswith(('"', "'")) and word[0] == word[-1]:
                word = unescape_string_literal(word)
            if word.strip():
                words.append(word.strip())
        return users_matching(queryset, words), False

    # ----- the read-only sections ----------------------------------------------------

    @admin.display(description="Avatar")
    def avatar_preview(self, user: User) -> str:
        if not user.avatar_url:
            return "None"
        return format_html(
            '<img src="{}" alt="avatar" width="96" height="96" style="object-fit: cover">',
            user.avatar_url,
        )

    @admin.display(description="Lockout")
    def lock_state(self, user: User) -> str:
        until = user_locked_until(user)
        if until is None:
            return "Not locked"
        return f"Locked until {_when(until)} UTC (too many failed logins)"

    @admin.display(description="MFA")
    def mfa_state(self, user: User) -> str:
        return "Enrolled (authenticator app)" if user_has_mfa(user) else "Not enrolled"

    @admin.display(description="Credit account")
    def credit_summary(self, user: User) -> str:
        account = CreditAccount.objects.filter(user_id=user.pk).first()
        if account is None:
            return "No credit account yet (made at the first use)."
        link = format_html(
            '<a href="{}">Change the balance (with a reason)</a>',
            reverse("admin:credits_creditaccount_change", args=[account.pk]),
        )
        balances = format_html(
            "Main credits {} (reset to {}), conversations {} (reset to {}), used today {}. {}",
            account.main_credits,
            account.main_reset,
            account.conversation_limit,
            account.conversation_reset,
            account.used_today,
            link,
        )
        entries = account.ledger.order_by("-created_at")[:5]
        rows = [
            (_when(entry.created_at), entry.get_kind_display(), entry.reason, entry.actor_id)
            for entry in entries
        ]
        if not rows:
            return balances
        return format_html(
            "{}<br>Last ledger rows:{}", balances, _table(("When", "Kind", "Reason", "By"), rows)
        )

    @admin.display(description="Plan history (newest 10)")
    def plan_history(self, user: User) -> str:
        rows = [
            (
                _when(change.created_at),
                change.from_plan,
                change.to_plan,
                change.reason,
                change.actor_id,
            )
            for change in plan_history_of(user)[:10]
        ]
        if not rows:
            return "No plan changes."
        return _table(("When", "From", "To", "Reason", "By"), rows)

    @admin.display(description="Newest 10 (contents on the audited page of each)")
    def recent_conversations(self, user: User) -> str:
        entries = (
            MessageLog.objects.filter(user_id=user.pk)
            .order_by("-timestamp")
            .only("id", "timestamp", "model", "tokens_used")[:10]
        )
        rows = [
            (
                format_html(
                    '<a href="{}">{}</a>',
                    reverse("admin:messagelog_messagelog_change", args=[entry.pk]),
                    _when(entry.timestamp),
                ),
                entry.model,
                entry.tokens_used,
            )
            for entry in entries
        ]
        if not rows:
            return "No conversations."
        return _table(("When", "Model", "Tokens"), rows)

    @admin.display(description="Newest 20 rows about this account")
    def audit_history(self, user: User) -> str:
        target = {"target_type": User._meta.label_lower, "target_id": str(user.pk)}
        rows = [
            (_when(row.occurred_at), row.action, row.actor_label or row.actor_kind, row.ip_address)
            for row in AuditLog.objects.filter(**target).order_by("-occurred_at", "-id")[:20]
        ]
        link = format_html(
            '<a href="{}?{}">All of them</a>',
            reverse("admin:security_auditlog_changelist"),
            urlencode(target),
        )
        if not rows:
            return format_html("None yet. {}", link)
        return format_html("{}{}", _table(("When", "Action", "By", "IP"), rows), link)

    # ----- forms and lists -------------------------------------------------------------

    # A section of the page shows what its own admin page shows: only to whoever may
    # view that page (the lists of sessions and keys follow the same rule, as inlines).
    _SECTION_PERMISSIONS = {
        "lock_state": "axes.view_accessattempt",
        "unlock_account": "axes.change_accessattempt",
        "credit_summary": "credits.view_creditaccount",
        "recent_conversations": "messagelog.view_messagelog",
        "audit_history": "security.view_auditlog",
    }

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        hidden = {
            field
            for field, permission in self._SECTION_PERMISSIONS.items()
            if not request.user.has_perm(permission)
        }
        shown = []
        for name, options in fieldsets:
            fields = tuple(field for field in options["fields"] if field not in hidden)
            if fields:
                shown.append((name, {**options, "fields": fields}))
        return shown

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        """The plan list offers the active plans, and the user's own if inactive."""
        if db_field.name == "subscription_plan":
            current = (
                request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            )
            offered = Q(is_active=True)
            if current:
                offered |= Q(users__pk=current)
            kwargs["queryset"] = Plan.objects.filter(offered).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_actions(self, request: HttpRequest):
        """No "Delete selected": deleting is recoverable (`delete_recoverably`), and the
        only hard delete is the erasure, which asks for a reason (`erase_users`)."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.delete_user")

    def get_formset_kwargs(self, request: HttpRequest, obj, inline, prefix: str) -> dict:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, BoundedInline) and obj is not None:
            kwargs["queryset"] = inline.bounded(kwargs["queryset"], obj)
        return kwargs

    def get_inline_instances(self, request: HttpRequest, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        """ "Add user" goes through `user_create_by_admin`. On the change form, the form
        saves everything but a changed status or role: the status goes through the
        status service (sessions and API keys end, cached rights drop, deletion is
        recorded), the role through the role service (its grant and tenant checks). A
        new role or an unticked superuser or staff flag is refused on the editor's own
        account and on the last active superuser (`guard_against_lockout`). Changed
        preferences go through the preferences service (history row); a new plan
        through `plan_change` (the credit account's amounts, ledger, plan history and
        audit rows). The unlock and MFA reset ticks call their services, and so does
        "remove the avatar"."""
        if not change:
            self._create(request, obj, form.cleaned_data)
            return
        new_status, new_role, new_plan = obj.status, obj.role, obj.subscription_plan_id
        new_preferences = obj.preferences
        preferences_changed = new_preferences != form.initial.get("preferences")
        if preferences_changed:
            obj.preferences = form.initial["preferences"]
        status_changed = "status" in form.changed_data
        role_changed = "role" in form.changed_data and new_role is not None
        plan_changed = "subscription_plan" in form.changed_data
        if self._takes_rights_away(form):
            users.guard_against_lockout(actor=request.user, user=obj)
        if status_changed:
            obj.status = form.initial["status"]
        if role_changed:
            obj.role_id = form.initial["role"]
        if plan_changed:
            obj.subscription_plan_id = form.initial["subscription_plan"]
        super().save_model(request, obj, form, change)
        forget_cached_user(obj.pk)  # the form may have changed the tenant or the staff flags
        if preferences_changed:
            preferences_replace(
                user=obj,
                actor=request.user,
                document=new_preferences,
                source=PreferenceChange.Source.ADMIN_SITE,
            )
        if role_changed:
            users.user_assign_role(actor=request.user, user=obj, role_name=new_role.name)
        if plan_changed:
            plan_change(actor=request.user, user=obj, plan=new_plan, reason="admin form")
        if status_changed:
            users.user_status_set(
                user=obj, status=new_status, actor=request.user, reason="admin form"
            )
        if form.cleaned_data.get("unlock_account"):
            if not request.user.has_perm("axes.change_accessattempt"):
                raise Forbidden(
                    "You may not unlock accounts.", code=CommonErrorCode.PERMISSION_DENIED
                )
            account_unlock(identifier=account_key(obj), actor=request.user)
        if form.cleaned_data.get("reset_mfa"):
            mfa.mfa_reset_by_staff(user=obj, actor=request.user)
        if form.cleaned_data.get("remove_avatar"):
            avatars.avatar_remove(user=obj, actor=request.user)

    @staticmethod
    def _create(request: HttpRequest, obj: User, data: dict) -> None:
        tenant = data.get("tenant")
        created = users.user_create_by_admin(
            actor=request.user,
            data={
                "username": data["username"],
                "email": data["email"],
                "name": data.get("name") or "",
                "password": data["password1"],
                "role": data["role_name"],
                "tenant_id": tenant.pk if tenant else None,
            },
        )
        # The admin's own log and its redirect need the saved row.
        obj.pk, obj.password, obj.tenant_id, obj.role = (
            created.pk,
            created.password,
            created.tenant_id,
            created.role,
        )
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """The lists are read-only: a ticked "revoke" calls its service, nothing else
        is written (a plain save could bring back a row revoked meanwhile)."""
        if formset.model not in (LoginSession, APIKey):
            super().save_formset(request, form, formset, change)
            return
        # What the admin's own log reads of a saved list: nothing added, changed or deleted.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        ticked = [
            row.instance
            for row in formset.forms
            if row.instance.pk is not None and row.cleaned_data.get("revoke")
        ]
        if formset.model is LoginSession:
            revoked = sessions_revoke_each(
                [session.pk for session in ticked],
                reason=LoginSession.RevokeReason.REVOKED,
                actor=request.user,
            )
            if revoked:
                self.message_user(request, f"{revoked} session(s) revoked.", messages.SUCCESS)
        else:
            live = [key for key in ticked if key.revoked_at is None]
            for key in live:
                apikey_revoke(key=key, actor=request.user)
            if live:
                self.message_user(request, f"{len(live)} API key(s) revoked.", messages.SUCCESS)

    @staticmethod
    def _takes_rights_away(form) -> bool:
        changed = set(form.changed_data)
        unticked = {
            flag for flag in ("is_superuser", "is_staff") if flag in changed and form.initial[flag]
        }
        return bool(unticked) or "role" in changed

    def user_change_password(self, request: HttpRequest, id, form_url=""):
        """The password, its audit row and the end of the user's sessions: all or none."""
        change_password = super().user_change_password
        return unless_refused(self, request, lambda: change_password(request, id, form_url))

    def log_change(self, request: HttpRequest, obj, message):
        """The admin's "change password" form: audit it and end the user's sessions."""
        changed = [
            field
            for entry in (message if isinstance(message, list) else [])
            for field in entry.get("changed", {}).get("fields", [])
        ]
        if "password" in changed or "Password" in changed:
            forget_cached_user(obj.pk, must_succeed=False)
            audit_record(
                action=AuditAction.USER_PASSWORD_SET_BY_STAFF,
                actor=request.user,
                target=obj,
                changes={"password": {"changed": True}},
            )
            sessions_revoke_for_user(
                user=obj, reason=LoginSession.RevokeReason.PASSWORD_CHANGE, actor=request.user
            )
        return super().log_change(request, obj, message)

    # ----- actions: every selected account or none (AllOrNothingModelAdmin) ------------

    def _set_status(self, request: HttpRequest, queryset: QuerySet, status: str) -> None:
        for user in queryset:
            users.user_status_set(
                user=user, status=status, actor=request.user, reason="admin action"
            )
        self.message_user(
            request, f"{queryset.count()} account(s) set to {status}.", messages.SUCCESS
        )

    @admin.action(description="Suspend selected accounts (ends their sessions and API keys)")
    def suspend_users(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, User.Status.SUSPENDED)

    @admin.action(description="Activate selected accounts")
    def activate_users(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, User.Status.ACTIVE)

    def _assign_role(self, request: HttpRequest, queryset: QuerySet, role: str) -> None:
        result = users.users_bulk_update(
            actor=request.user,
            user_ids=list(queryset.values_list("pk", flat=True)),
            status=None,
            role=role,
        )
        self.message_user(
            request, f"{len(result.updated)} account(s) now {role}.", messages.SUCCESS
        )

    @admin.action(description="Give selected accounts the moderator role")
    def make_moderators(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._assign_role(request, queryset, BuiltinRole.MODERATOR)

    @admin.action(description="Give selected accounts the user role")
    def make_users(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._assign_role(request, queryset, BuiltinRole.USER)

    @admin.action(description="Reset MFA of selected accounts (lost authenticator)")
    def reset_mfa(self, request: HttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            mfa.mfa_reset_by_staff(user=user, actor=request.user)
        self.message_user(request, "MFA reset.", messages.SUCCESS)

    @admin.action(description="Delete selected accounts (recoverable until purged)")
    def delete_recoverably(self, request: HttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            lifecycle.account_delete(user=user, actor=request.user, reason="admin action")
        self.message_user(request, "Accounts deleted.", messages.SUCCESS)

    @admin.action(
        description="Erase selected accounts for good (asks for a reason)",
        permissions=["erase"],
    )
    def erase_users(self, request: HttpRequest, queryset: QuerySet):
        """The one hard delete: a page asks for the reason, then `account_erase` runs
        for each account (all or none), each leaving an audit row with its id and name."""
        form = EraseForm(request.POST if "erase_confirmed" in request.POST else None)
        if form.is_bound and form.is_valid():
            selected = list(queryset)
            for user in selected:
                lifecycle.account_erase(
                    user=user, actor=request.user, reason=form.cleaned_data["reason"]
                )
            self.message_user(request, f"{len(selected)} account(s) erased.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase accounts for good",
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/accounts/user/erase_confirmation.html", context)


class RoleForm(forms.ModelForm):
    """Permissions are ticked from the known `action:resource` strings (and any other
    the role already holds, so saving keeps it), checked by the API's validator."""

    permissions = forms.MultipleChoiceField(
        choices=Permission.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Role
        fields = ("name", "description", "tenant", "permissions")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        known = set(Permission.values)
        held = [item for item in (self.instance.permissions or []) if item not in known]
        self.fields["permissions"].choices = [
            *Permission.choices,
            *((item, f"{item} (not a built-in permission)") for item in held),
        ]

    def clean_permissions(self) -> list[str]:
        try:
            return roles.permissions_validate(self.cleaned_data["permissions"])
        except ServiceError as error:
            raise forms.ValidationError(error.errors or [error.message]) from error


@admin.register(Role)
class RoleAdmin(AllOrNothingModelAdmin):
    """Roles are written by the roles service, as through the API: its checks, its
    audit rows, and the holders' cached rights dropped. Built-in roles are read-only
    and cannot be deleted; "is builtin" is never editable; a role's name and tenant
    are fixed once it exists (as in the API)."""

    form = RoleForm
    list_display = ("name", "tenant", "is_builtin", "description")
    list_filter = ("is_builtin", TenantSlugFilter)
    search_fields = ("name",)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ("is_builtin",) if obj is None else ("name", "tenant", "is_builtin")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.is_builtin:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.is_builtin:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Role, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            stored = Role.objects.get(pk=obj.pk)
            roles.role_update(
                actor=request.user,
                role=stored,
                data={"permissions": data["permissions"], "description": data["description"]},
            )
            return
        tenant = data.get("tenant")
        role = roles.role_create(
            actor=request.user,
            name=data["name"],
            permissions=data["permissions"],
            description=data["description"],
            tenant_id=tenant.pk if tenant else None,
        )
        obj.pk, obj.permissions, obj.tenant_id = role.pk, role.permissions, role.tenant_id
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Role) -> None:
        roles.role_delete(actor=request.user, role=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for role in queryset:
            roles.role_delete(actor=request.user, role=role)


@admin.register(LoginSession)
class LoginSessionAdmin(LargeTableAdminMixin, AllOrNothingModelAdmin):
    """Every login session, newest first. A search names the account (part of its
    username or email, through the user table's trigram indexes) or an exact IP
    address (loginsession_ip_idx)."""

    list_display = (
        "id",
        "user",
        "ip_address",
        "created_at",
        "last_seen_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
    )
    list_filter = ("revoked_reason",)
    search_fields = ("user__username", "user__email")
    search_help_text = "Part of the account's username or email, or an exact IP address."
    list_select_related = ("user",)
    actions = ["revoke_sessions"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        address = ip_address_or_none(search_term)
        if address is not None:
            return queryset.filter(ip_address=address), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        # The page is read-only, so revoking needs the change permission it hides.
        return request.user.has_perm("accounts.change_loginsession")

    @admin.action(description="Revoke selected sessions", permissions=["revoke"])
    def revoke_sessions(self, request: HttpRequest, queryset: QuerySet) -> None:
        revoked = sessions_revoke_each(
            queryset.values_list("pk", flat=True),
            reason=LoginSession.RevokeReason.REVOKED,
            actor=request.user,
        )
        self.message_user(request, f"{revoked} session(s) revoked.", messages.SUCCESS)
