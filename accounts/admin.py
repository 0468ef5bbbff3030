"""The Django admin pages of accounts; their changes go through the services or drop
the cached copies of the users they change."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.auth.request_cache import forget_cached_user
from accounts.authz.roles import BuiltinRole, Permission
from accounts.models import LoginSession, Role, User
from accounts.services import lifecycle, mfa, roles, users
from accounts.services.sessions import sessions_revoke_each, sessions_revoke_for_user
from core.errors import ServiceError
from security.admin_audit import AllOrNothingModelAdmin, AuditedModelAdmin, unless_refused
from security.models import AuditAction
from security.services.audit import audit_record


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
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
        "role",
        "tenant",
    )
    search_fields = ("username", "email", "name", "first_name", "last_name")
    ordering = ("-created_at",)
    list_select_related = ("role", "tenant")
    readonly_fields = (
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
    ]
    fieldsets = (
        (None, {"fields": ("username", "email", "password")}),
        (
            "Profile",
            {
                "fields": (
                    "name",
                    "first_name",
                    "last_name",
                    "user_type",
                    "about_me",
                    "hobbies",
                    "preferences",
                )
            },
        ),
        ("Account", {"fields": ("status", "is_verified", "subscription_plan", "tenant", "role")}),
        ("Staff", {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "password_changed_at", "created_at", "updated_at")}),
        ("Deletion", {"fields": ("deleted_at", "deleted_by", "status_before_deletion")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
    )

    # Actions change every selected account or none: the changelist runs them in one
    # transaction and says "Nothing changed" when one is refused (AllOrNothingModelAdmin).
    def _set_status(self, request: HttpRequest, queryset: QuerySet, status: str) -> None:
        for user in queryset:
            users.user_status_set(
                user=user, status=status, actor=request.user, reason="admin action"
            )
        self.message_user(
            request, f"{queryset.count()} account(s) set to {status}.", messages.SUCCESS
        )

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        """The form saves everything but a changed status, which goes through the status
        service (sessions end, cached rights drop, deletion is recorded). A new role or
        an unticked superuser or staff flag is refused on the editor's own account and
        on the last active superuser, as the services refuse it (`guard_against_lockout`)."""
        new_status = obj.status
        status_changed = change and "status" in form.changed_data
        if change and self._takes_rights_away(form):
            users.guard_against_lockout(actor=request.user, user=obj)
        if status_changed:
            obj.status = form.initial["status"]
        super().save_model(request, obj, form, change)
        if change:  # the form may have changed the role, the tenant or the staff flags
            forget_cached_user(obj.pk)
        if status_changed:
            users.user_status_set(
                user=obj, status=new_status, actor=request.user, reason="admin form"
            )

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

    # Erasing accounts (the delete page, Django's "Delete selected"): never one's own,
    # never the last active superuser; one by one, so the last check sees the others gone.
    def delete_model(self, request: HttpRequest, obj: User) -> None:
        users.guard_against_lockout(actor=request.user, user=obj)
        user_id = obj.pk
        super().delete_model(request, obj)
        forget_cached_user(user_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            self.delete_model(request, user)

    @admin.action(description="Suspend selected accounts (ends their sessions)")
    def suspend_users(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, User.Status.SUSPENDED)

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

    @admin.action(description="Activate selected accounts")
    def activate_users(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, User.Status.ACTIVE)


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
    list_filter = ("is_builtin", "tenant")
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
class LoginSessionAdmin(AllOrNothingModelAdmin):
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
    search_fields = ("user__username", "user__email", "ip_address")
    list_select_related = ("user",)
    actions = ["revoke_sessions"]

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
