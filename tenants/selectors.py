from django.db.models import QuerySet

from accounts.authz import rules as authz
from accounts.models import User
from tenants.models import Tenant

DEFAULT_SETTINGS = {
    "default_role": "user",
    "default_credits": None,
    # Closed unless the tenant opens it: a tenant id is no secret (it is in every
    # member's profile), so an open default would let anyone join any tenant.
    "self_registration": False,
    "allowed_email_domains": [],
    # Preferences of the tenant's members who have not chosen otherwise, over the
    # platform defaults (a partial document of `accounts.preferences`).
    "default_preferences": {},
    # `credits.low` fires for a member when a call brings their conversation limit
    # down to this many (None: CREDITS_LOW_THRESHOLD; 0: never).
    "credits_low_threshold": None,
}


def tenants_visible_to(actor: User) -> QuerySet[Tenant]:
    """Every tenant for a platform admin; one's own tenant (if any) for anyone else."""
    if authz.is_platform_admin(actor):
        return Tenant.objects.order_by("id")
    return Tenant.objects.filter(pk=actor.tenant_id or 0)


def member_ids(tenant: Tenant) -> QuerySet:
    """The ids of the tenant's members."""
    return User.objects.filter(tenant=tenant).values_list("pk", flat=True)


def tenant_get_active(*, tenant_id: int) -> Tenant | None:
    """The tenant with this id when it exists and is active, else None."""
    return Tenant.objects.filter(pk=tenant_id, is_active=True).first()


def tenant_settings(tenant: Tenant) -> dict:
    return {**DEFAULT_SETTINGS, **(tenant.settings or {})}


def registration_allowed(tenant: Tenant, email: str) -> bool:
    """Whether self-registration into this tenant is open for this address: the tenant
    must turn `self_registration` on; `allowed_email_domains` narrows it further."""
    options = tenant_settings(tenant)
    if not options["self_registration"]:
        return False
    domains = options["allowed_email_domains"]
    return not domains or email.rsplit("@", 1)[-1].lower() in domains


def membership_rests_on_email_domain(tenant: Tenant) -> bool:
    """Whether this tenant admits self-registered members by their email domain, which
    only a verified address proves."""
    return bool(tenant_settings(tenant)["allowed_email_domains"])
