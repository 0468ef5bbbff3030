from core.errors import ErrorCode


class GatewayErrorCode(ErrorCode):
    """Failures of the model backend behind the metered endpoints; the credit is refunded."""

    LLM_BACKEND_ERROR = (
        "LLM_BACKEND_ERROR",
        502,
        "the model backend failed, or answered text that cannot be sent (a lone surrogate); "
        "the credit is refunded",
    )
    LLM_BACKEND_TIMEOUT = (
        "LLM_BACKEND_TIMEOUT",
        504,
        "the model backend did not answer within `LLM_TIMEOUT_SECONDS`; the credit is refunded",
    )
