"""Form fields shared by the admin site's model forms."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput
from rest_framework.exceptions import ParseError

from core.errors import CommonErrorCode
from core.parsers import check_json_value, too_deep


class BoundedJSONFormField(forms.JSONField):
    """A JSON form field with the API's limits: JSON nested too deep, or holding NUL
    or a lone surrogate, is a form error instead of a RecursionError or a database
    error."""

    def to_python(self, value):
        try:
            converted = super().to_python(value)
            check_json_value(converted)
        except RecursionError as exc:
            raise ValidationError(
                str(too_deep().detail), code=CommonErrorCode.JSON_TOO_DEEP
            ) from exc
        except ParseError as exc:
            raise ValidationError(str(exc.detail), code=str(exc.detail.code).lower()) from exc
        return converted

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return InvalidJSONInput(data)
