from core.errors import ErrorCode


class TenantErrorCode(ErrorCode):
    """Refusals of the tenant endpoints (/api/v1/tenants)."""

    INVALID_NAME = "INVALID_NAME", 400, "a tenant name without letters or digits"
    TENANT_EXISTS = "TENANT_EXISTS", 409, "a tenant with this name (slug) exists"
