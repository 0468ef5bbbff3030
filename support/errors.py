from core.errors import ErrorCode


class SupportErrorCode(ErrorCode):
    """Refusals of the operators' surfaces: monitoring."""

    MONITORING_NOT_ALLOWED = (
        "MONITORING_NOT_ALLOWED",
        403,
        "`/metrics` or `/api/v1/health/detailed` from outside `MONITORING_ALLOWED_IPS` "
        "without a platform admin's token",
    )
