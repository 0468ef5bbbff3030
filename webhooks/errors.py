from core.errors import ErrorCode


class WebhookErrorCode(ErrorCode):
    """Refusals of webhook endpoints."""

    WEBHOOK_URL_REFUSED = (
        "WEBHOOK_URL_REFUSED",
        400,
        "a webhook URL that is not http(s), carries credentials, does not resolve, or "
        "resolves to a private, loopback, link-local or reserved address",
    )
    WEBHOOK_UNKNOWN_EVENT = (
        "WEBHOOK_UNKNOWN_EVENT",
        400,
        "a webhook subscribed to no event, or to an event type that does not exist",
    )
    WEBHOOK_LIMIT_REACHED = (
        "WEBHOOK_LIMIT_REACHED",
        409,
        "the tenant already has WEBHOOK_MAX_ENDPOINTS_PER_TENANT endpoints",
    )
