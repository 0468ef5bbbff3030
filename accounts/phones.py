"""Phone numbers: accepted in international format, stored in E.164 (`+14155552671`).

Numbers without a country code are refused rather than guessed: the service has no
home country to assume. Validity is libphonenumber's (the `phonenumbers` package):
a number must be possible and assigned in its country's numbering plan.
"""

import phonenumbers

from accounts.errors import AccountErrorCode
from core.errors import ValidationFailed

# Long enough for any formatted number with an extension; longer input is not a number.
PHONE_INPUT_MAX_LENGTH = 40


def _invalid(reason: str) -> ValidationFailed:
    return ValidationFailed(
        f"phone: {reason}", errors=[f"phone: {reason}"], code=AccountErrorCode.INVALID_PHONE
    )


def phone_normalise(raw: str) -> str:
    """The number in E.164, or "" for a blank value (clearing the number).

    400 INVALID_PHONE when it is not a valid number written with `+` and its country code.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    if len(text) > PHONE_INPUT_MAX_LENGTH:
        raise _invalid(f"at most {PHONE_INPUT_MAX_LENGTH} characters.")
    if not text.startswith("+"):
        raise _invalid("write the number in international format: + and the country code.")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as error:
        raise _invalid("not a phone number.") from error
    if not phonenumbers.is_valid_number(number):
        raise _invalid("not a valid number for its country.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
