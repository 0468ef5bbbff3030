"""Tenants: create one with its first admin (both or neither), change it, deactivate it."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.auth.request_cache import forget_cached_users
from accounts.authz import rules as authz
from accounts.authz.roles import BuiltinRole, Permission
from accounts.models import LoginSession, User
from accounts.preferences import check_preferences
from accounts.services.sessions import sessions_revoke_for_tenant
from accounts.services.users import user_create_by_admin
from core.errors import CommonErrorCode, Conflict, Forbidden, ValidationFailed
from credits.services import default_credits_cleaned
from events.catalog import EventType
from events.services import event_record
from security.models import AuditAction
from security.services.audit import audit_record, field_changes, snapshot
from tenants.errors import TenantErrorCode
from tenants.models import Tenant
from tenants.selectors import DEFAULT_SETTINGS, member_ids

EDITABLE = ("name", "description", "domain")


def _clean_settings(settings: dict) -> dict:
    """The settings as stored: unknown keys, wrong shapes and default preferences that
    do not fit the preferences schema are refused (400)."""
    if not isinstance(settings, dict):
        raise ValidationFailed(
            "Tenant settings are a JSON object.", code=CommonErrorCode.INVALID_SETTINGS
        )
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValidationFailed(
            f"Unknown tenant settings: {', '.join(sorted(unknown))}.",
            code=CommonErrorCode.INVALID_SETTINGS,
        )
    domains = settings.get("allowed_email_domains", [])
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise ValidationFailed(
            "allowed_email_domains is a list of domains.", code=CommonErrorCode.INVALID_SETTINGS
        )
    cleaned = {**settings, "allowed_email_domains": [d.lower().lstrip("@") for d in domains]}
    if "default_preferences" in settings:
        # The same schema as a user's own choices; bad paths named under the setting.
        check_preferences(settings["default_preferences"], prefix="settings.default_preferences.")
    threshold = settings.get("credits_low_threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int) or not 0 <= threshold < 2**31
    ):
        raise ValidationFailed(
            "credits_low_threshold is a whole number of conversations, 0 or more (or null).",
            code=CommonErrorCode.INVALID_SETTINGS,
        )
    if "default_credits" in settings:
        cleaned["default_credits"] = default_credits_cleaned(settings["default_credits"])
    return cleaned


def tenant_settings_cleaned(settings: object) -> dict:
    """The settings as the API would store them, for the admin site's form."""
    return _clean_settings(settings)


def _require_platform_admin(actor: User) -> None:
    if not authz.is_platform_admin(actor):
        raise Forbidden(
            "Only platform administrators may do this.", code=CommonErrorCode.PERMISSION_DENIED
        )


@transaction.atomic
def tenant_create(*, actor: User, data: dict[str, Any]) -> tuple[Tenant, User]:
    """The tenant and its first tenant admin, in one transaction."""
    _require_platform_admin(actor)
    slug = data.get("slug") or slugify(data["name"])[:100]
    if not slug:
        raise ValidationFailed(
            "The name needs letters or digits.", code=TenantErrorCode.INVALID_NAME
        )
    if Tenant.objects.filter(slug=slug).exists():
        raise Conflict("A tenant with this name exists.", code=TenantErrorCode.TENANT_EXISTS)
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(
                name=data["name"],
                slug=slug,
                description=data.get("description", ""),
                domain=data.get("domain", ""),
                settings=_clean_settings(data.get("settings") or {}),
            )
    except IntegrityError as exc:
        raise Conflict(
            "A tenant with this name exists.", code=TenantErrorCode.TENANT_EXISTS
        ) from exc
    audit_record(
        action=AuditAction.TENANT_CREATE,
        actor=actor,
        target=tenant,
        tenant_id=tenant.pk,
        changes={"name": tenant.name, "slug": slug},
    )
    admin = user_create_by_admin(
        actor=actor,
        data={
            "email": data["admin_email"],
            "username": data["admin_username"],
            "password": data["admin_password"],
            "first_name": data.get("admin_first_name", ""),
            "last_name": data.get("admin_last_name", ""),
            "tenant_id": tenant.pk,
            "role": BuiltinRole.ADMIN,
            "name": f"{data.get('admin_first_name', '')} {data.get('admin_last_name', '')}".strip(),
        },
    )
    event_record(
        actor=actor,
        type=EventType.TENANT_CREATED,
        tenant_id=tenant.pk,
        data={
            "tenant_id": tenant.pk,
            "slug": tenant.slug,
            "name": tenant.name,
            "admin_user_id": admin.pk,
        },
    )
    return tenant, admin


@transaction.atomic
def tenant_update(*, actor: User, tenant: Tenant, data: dict[str, Any]) -> Tenant:
    if not authz.can(actor, Permission.MANAGE_TENANT, tenant):
        raise Forbidden("You may not change this tenant.", code=CommonErrorCode.PERMISSION_DENIED)
    fields = [name for name in EDITABLE if name in data]
    before = snapshot(tenant, [*fields, "settings"])
    for name in fields:
        setattr(tenant, name, data[name])
    if "settings" in data:
        tenant.settings = {**tenant.settings, **_clean_settings(data["settings"])}
    tenant.save()
    if "settings" in data:
        tenant_settings_applied(tenant=tenant)
    audit_record(
        action=AuditAction.TENANT_UPDATE,
        actor=actor,
        target=tenant,
        tenant_id=tenant.pk,
        changes=field_changes(before, snapshot(tenant, [*fields, "settings"])),
    )
    return tenant


@transaction.atomic
def tenant_set_active(*, actor: User, tenant: Tenant, active: bool) -> Tenant:
    """Deactivating stops every member's logins and sessions at once."""
    _require_platform_admin(actor)
    tenant.is_active = active
    tenant.save(update_fields=["is_active", "updated_at"])
    audit_record(
        action=AuditAction.TENANT_ACTIVATE if active else AuditAction.TENANT_DEACTIVATE,
        actor=actor,
        target=tenant,
        tenant_id=tenant.pk,
    )
    tenant_activity_applied(tenant=tenant, actor=actor)
    return tenant


def tenant_settings_applied(*, tenant: Tenant) -> None:
    """What follows a change of the settings, wherever it was made: every member's
    cached row, which carries the tenant, is dropped, so that the new settings (the
    default preferences among them) apply from the members' next request."""
    forget_cached_users(member_ids(tenant), must_succeed=False)


def tenant_activity_applied(*, tenant: Tenant, actor: User) -> None:
    """What follows a change of `is_active`, wherever it was made (the API, the admin
    site): every member's cached row is dropped so the change holds at once, and a
    deactivation ends every member's session."""
    forget_cached_users(member_ids(tenant))
    if not tenant.is_active:
        sessions_revoke_for_tenant(
            tenant=tenant, reason=LoginSession.RevokeReason.STATUS_CHANGE, actor=actor
        )
