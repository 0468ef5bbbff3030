from core.errors import ErrorCode


class SupportErrorCode(ErrorCode):
    """Refusals of the operators' surfaces: monitoring and the support staff API."""

    MONITORING_NOT_ALLOWED = (
        "MONITORING_NOT_ALLOWED",
        403,
        "`/metrics` or `/api/v1/health/detailed` from outside `MONITORING_ALLOWED_IPS` "
        "without a platform admin's token",
    )
    SUPPORT_STAFF_ONLY = (
        "SUPPORT_STAFF_ONLY",
        403,
        "a `/v1/support` route called by an account that is not support staff",
    )
    SUPPORT_RIGHT_MISSING = (
        "SUPPORT_RIGHT_MISSING",
        403,
        "the support staff level lacks the right the route needs (`required_right` names it)",
    )
    SUPPORT_FIELD_NOT_EDITABLE = (
        "SUPPORT_FIELD_NOT_EDITABLE",
        403,
        "`PUT /v1/support/users/{id}` names a field the staff level may not change "
        "(`fields` names them)",
    )
    SUPPORT_TARGET_PROTECTED = (
        "SUPPORT_TARGET_PROTECTED",
        403,
        "support staff may act only on plain users: never on admins, moderators, "
        "other staff or themselves",
    )
    SUPPORT_CREATE_NOT_ALLOWED = (
        "SUPPORT_CREATE_NOT_ALLOWED",
        403,
        "`POST /v1/support/create` by someone other than a platform admin or a tenant's admin",
    )
