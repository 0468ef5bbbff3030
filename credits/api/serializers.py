from rest_framework import serializers

from accounts.models import User
from credits import services


def balance_body(user: User) -> dict:
    """The balance as the API answers it: `credits`, `limits` and today's use."""
    balance = services.balance_of(user)
    return {
        "credits": balance.credits,
        "limits": balance.limits,
        "used_today": balance.used_today,
        "last_reset_on": balance.last_reset_on,
    }


class CreditChangeSerializer(serializers.Serializer):
    # Checked by the service as they come: whole numbers only, never "5" or 5.0.
    credits = serializers.JSONField(
        required=False, help_text='{"main": int, "reset": int}, each optional, 0 to 2147483647'
    )
    limits = serializers.JSONField(
        required=False,
        help_text='{"conversation_limit": int, "reset": int}, each optional, 0 to 2147483647',
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
