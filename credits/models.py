from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import TimeStampedModel

# The balance columns are 32-bit integers on every database.
MAX_AMOUNT = 2**31 - 1


class Plan(TimeStampedModel):
    """A subscription plan: the daily amounts it gives the credit accounts of its users.

    An amount left empty follows the defaults (the tenant's `default_credits`, else
    DEFAULT_USER_CREDITS / DEFAULT_USER_LIMITS), as the built-in `free` plan does. A
    plan some user is on cannot be deleted (the user's reference protects it): it is
    deactivated instead, which keeps its users on it and offers it to nobody new.
    """

    code = models.SlugField(max_length=50, unique=True, help_text="Stable name used by the API.")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    main_reset = models.IntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_AMOUNT)],
        help_text="Main credits given at each daily reset; empty: the defaults.",
    )
    conversation_reset = models.IntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_AMOUNT)],
        help_text="Conversations allowed per day (the daily reset); empty: the defaults.",
    )
    is_active = models.BooleanField(
        default=True, help_text="Only active plans can be given; users keep an inactive one."
    )
    position = models.PositiveIntegerField(default=0, help_text="Order in lists, lowest first.")

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(main_reset__isnull=True) | Q(main_reset__gte=0))
                & (Q(conversation_reset__isnull=True) | Q(conversation_reset__gte=0)),
                name="plan_amounts_never_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CreditAccount(models.Model):
    """A user's balance: main credits and the conversation limit, each with its daily reset."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_account"
    )
    main_credits = models.IntegerField(default=0)
    main_reset = models.IntegerField(default=0)
    conversation_limit = models.IntegerField(default=0)
    conversation_reset = models.IntegerField(default=0)
    # Conversations used since the last daily reset: counted by the consume itself,
    # so staff changes to the balance leave it true. The database default lets
    # processes of the previous release go on inserting accounts during a deploy.
    used_today = models.IntegerField(default=0, db_default=0)
    last_reset_on = models.DateField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(conversation_limit__gte=0) & Q(main_credits__gte=0),
                name="credit_balance_never_negative",
            )
        ]
        # The admin's "recently changed first" list. The metered consume never writes
        # `updated_at` (a plain UPDATE of the balance), so its updates stay HOT.
        indexes = [
            models.Index(fields=["updated_at"], name="creditaccount_updated_idx"),
            # What the balances used since the daily reset (statistics): only the
            # accounts used today, summed from the index alone.
            models.Index(
                fields=["used_today"],
                name="creditaccount_used_today_idx",
                condition=models.Q(used_today__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"credits of {self.user_id}"

    def limits(self) -> dict:
        return {"conversation_limit": self.conversation_limit, "reset": self.conversation_reset}

    def credits(self) -> dict:
        return {"main": self.main_credits, "reset": self.main_reset}


class CreditLedgerEntry(models.Model):
    """Every change of a balance other than use: staff changes, refunds."""

    account = models.ForeignKey(CreditAccount, on_delete=models.CASCADE, related_name="ledger")

    class Kind(models.TextChoices):
        REFUND = "refund", "Refund of a failed call"
        STAFF_CHANGE = "staff_change", "Staff change"
        PLAN_CHANGE = "plan_change", "Plan change"

    actor_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    reason = models.CharField(max_length=500, blank=True)
    before = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    after = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The admin's newest-first list and its date filter.
        indexes = [models.Index(fields=["created_at"], name="ledger_created_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.account_id}"


class CreditResetRun(models.Model):
    """One daily reset; the unique day makes a second run of the same day a no-op."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    accounts_reset = models.IntegerField(default=0)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"credit reset of {self.day}"


class PlanChange(models.Model):
    """One change of a user's plan: who, when, from which plan to which, and why.

    Plan codes, not references: the history outlives a plan's deletion."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_changes"
    )
    actor_id = models.BigIntegerField(null=True, blank=True)
    from_plan = models.CharField(max_length=50)
    to_plan = models.CharField(max_length=50)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="planchange_user_created_idx"),
            models.Index(fields=["created_at"], name="planchange_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_plan} -> {self.to_plan} for {self.user_id}"
