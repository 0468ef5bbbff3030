from tenants.models import Tenant


def tenant_get_active(*, tenant_id: int) -> Tenant | None:
    """The tenant with this id when it exists and is active, else None."""
    return Tenant.objects.filter(pk=tenant_id, is_active=True).first()
