from core.errors import ErrorCode


class SecurityErrorCode(ErrorCode):
    """Refusals of the defences: firewall, allowlist, staff rules, rate limiter."""

    INVALID_NETWORK = (
        "INVALID_NETWORK",
        400,
        "an IP allowlist entry that is not an IP address or CIDR network",
    )
    IP_BLOCKED = "IP_BLOCKED", 403, "the client address is blocked by the firewall"
    IP_NOT_ALLOWLISTED = (
        "IP_NOT_ALLOWLISTED",
        403,
        "a staff surface reached from an address missing from the IP allowlist",
    )
    MFA_REQUIRED = (
        "MFA_REQUIRED",
        403,
        "a staff surface reached without MFA while `ADMIN_REQUIRE_MFA` is on",
    )
    RATE_LIMITER_UNAVAILABLE = (
        "RATE_LIMITER_UNAVAILABLE",
        503,
        "a fail-closed limit cannot count (cache down)",
    )
