from tenants.models import Tenant

DEFAULT_SETTINGS = {
    "default_role": "user",
    "default_credits": None,
    "self_registration": True,
    "allowed_email_domains": [],
}


def tenant_get_active(*, tenant_id: int) -> Tenant | None:
    """The tenant with this id when it exists and is active, else None."""
    return Tenant.objects.filter(pk=tenant_id, is_active=True).first()


def tenant_settings(tenant: Tenant) -> dict:
    return {**DEFAULT_SETTINGS, **(tenant.settings or {})}


def registration_allowed(tenant: Tenant, email: str) -> bool:
    """Whether self-registration into this tenant is open for this address."""
    options = tenant_settings(tenant)
    if not options["self_registration"]:
        return False
    domains = options["allowed_email_domains"]
    return not domains or email.rsplit("@", 1)[-1].lower() in domains
