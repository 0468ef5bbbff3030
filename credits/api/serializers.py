from rest_framework import serializers

from accounts.models import User
from credits import services
from credits.selectors import plan_history_of, plan_of


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


class PlanSerializer(serializers.Serializer):
    """A plan as users and staff see it; an empty amount follows the defaults."""

    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    main_reset = serializers.IntegerField(
        allow_null=True, help_text="Main credits per day; null: the tenant's or global default."
    )
    conversation_reset = serializers.IntegerField(
        allow_null=True, help_text="Conversations per day; null: the tenant's or global default."
    )
    is_active = serializers.BooleanField()


class PlanChangeRowSerializer(serializers.Serializer):
    """One row of a user's plan history."""

    from_plan = serializers.CharField()
    to_plan = serializers.CharField()
    reason = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class PlanChangeSerializer(serializers.Serializer):
    # Checked against the plans table by the service (400 UNKNOWN_PLAN / PLAN_INACTIVE).
    subscription_plan = serializers.SlugField(
        max_length=50, help_text="An active plan's code (GET /api/v1/plans)."
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class BillingUpdateSerializer(serializers.Serializer):
    billing_email = serializers.EmailField(
        max_length=254, allow_blank=True, help_text='Where invoices go; "" clears it.'
    )


class BillingSerializer(serializers.Serializer):
    """`GET /api/v1/users/me/billing`: the plan, the billing email and the newest
    plan changes (all of them at `…/billing/history`)."""

    user_id = serializers.IntegerField()
    plan = PlanSerializer()
    billing_email = serializers.EmailField(allow_blank=True)
    plan_history = PlanChangeRowSerializer(many=True)


# How many plan changes the billing answer carries; the history route pages through all.
BILLING_HISTORY_ROWS = 20


def billing_body(user: User) -> dict:
    return BillingSerializer(
        {
            "user_id": user.pk,
            "plan": plan_of(user),
            "billing_email": user.billing_email,
            "plan_history": plan_history_of(user)[:BILLING_HISTORY_ROWS],
        }
    ).data
