from core.errors import ErrorCode


class CreditErrorCode(ErrorCode):
    """Refusals about balances (spending, changing, resetting them) and plans."""

    INVALID_CREDITS = (
        "INVALID_CREDITS",
        400,
        "a `credits` or `limits` object with unknown names or amounts that are not whole "
        "numbers from 0 to 2147483647",
    )
    UNKNOWN_PLAN = "UNKNOWN_PLAN", 400, "a plan code that names no subscription plan"
    PLAN_INACTIVE = (
        "PLAN_INACTIVE",
        400,
        "a subscription plan that is no longer offered (users on it keep it; nobody new gets it)",
    )
    RESET_DAY_IN_FUTURE = "RESET_DAY_IN_FUTURE", 400, "a daily reset asked for a day after today"
    CREDITS_EXHAUSTED = (
        "CREDITS_EXHAUSTED",
        429,
        "no conversation credits left; `limits` shows the balance and its daily reset, "
        "`Retry-After` when it comes",
    )
