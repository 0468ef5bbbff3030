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
    MODEL_NOT_FOUND = (
        "MODEL_NOT_FOUND",
        404,
        "a model the service does not offer (`LLM_MODELS`; `GET /v1/models` lists them)",
    )
