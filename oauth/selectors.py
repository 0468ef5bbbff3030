"""Reads of OAuth applications and of the login sessions tokens ride on."""

from django.db.models import QuerySet
from django.utils import timezone

from accounts.authz.roles import Permission
from accounts.models import LoginSession
from accounts.selectors import users_scope
from core.errors import CommonErrorCode, Forbidden
from oauth.models import Application


def applications_visible_to(actor) -> QuerySet[Application]:
    """The applications an actor manages: their tenant's with `manage:tenant`, every
    one for platform admins, none otherwise (another tenant's is a 404)."""
    kind, ident = users_scope(actor, Permission.MANAGE_TENANT)
    applications = Application.objects.select_related("tenant").order_by("-created", "-id")
    if kind == "all":
        return applications
    if kind == "tenant":
        return applications.filter(tenant_id=ident)
    return applications.none()


def login_session_is_live(login_session_id, *, user) -> bool:
    """Whether the browser's OAuth login session is still live and is `user`'s."""
    if not login_session_id:
        return False
    return LoginSession.objects.filter(
        pk=login_session_id, user_id=user.pk, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).exists()


def application_tenant_for(actor, requested_tenant_id: int | None) -> int | None:
    """The tenant an application the actor registers belongs to: their own for a
    tenant admin (`manage:tenant`), any (or none: a platform application) for a
    platform admin; anyone else may register none (403)."""
    kind, ident = users_scope(actor, Permission.MANAGE_TENANT)
    if kind == "all":
        return requested_tenant_id
    if kind == "tenant":
        return ident
    raise Forbidden(
        "Registering OAuth applications needs the manage:tenant permission.",
        code=CommonErrorCode.PERMISSION_DENIED,
    )
