from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone


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

    actor_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    reason = models.CharField(max_length=500, blank=True)
    before = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    after = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

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
