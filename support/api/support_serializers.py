"""Shapes of the support staff API (/v1/support): the staff member, their level, the
user as a level sees it, and the bodies of the changes."""

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers

from accounts.api.serializers import name_field, password_field
from accounts.models import User, username_validator
from accounts.preferences import effective_preferences
from credits.api.serializers import CreditChangeSerializer, balance_body
from support.levels import (
    EDITABLE_FIELDS,
    LEVEL_RIGHTS,
    STAFF_SETTABLE_STATUSES,
    VISIBLE_FIELDS,
)


class StaffCreateSerializer(serializers.Serializer):
    username = serializers.CharField(min_length=3, max_length=50, validators=[username_validator])
    name = name_field()
    email = serializers.EmailField(max_length=254)
    password = password_field()
    staff_level = serializers.ChoiceField(choices=User.SupportLevel.choices)


def _tenant(user: User) -> dict | None:
    if user.tenant_id is None:
        return None
    return {"id": user.tenant_id, "name": user.tenant.name}


class StaffProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    email = serializers.EmailField()
    staff_level = serializers.CharField(source="support_level")
    tenant = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)

    def get_tenant(self, user: User) -> dict | None:
        return _tenant(user)


def staff_permissions_body(level: str) -> dict:
    return {
        "staff_level": level,
        "rights": sorted(LEVEL_RIGHTS.get(level, ())),
        "visible_fields": list(VISIBLE_FIELDS.get(level, ())),
        "editable_fields": sorted(EDITABLE_FIELDS.get(level, ())),
    }


class StaffPermissionsSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    staff_level = serializers.CharField()
    rights = serializers.ListField(child=serializers.CharField())
    visible_fields = serializers.ListField(child=serializers.CharField())
    editable_fields = serializers.ListField(child=serializers.CharField())


def _balance(user: User) -> dict:
    """The balance, from the account the list query joined when it has one."""
    try:
        account = user.credit_account
    except ObjectDoesNotExist:
        return balance_body(user)
    return {
        "credits": account.credits(),
        "limits": account.limits(),
        "used_today": account.used_today,
        "last_reset_on": account.last_reset_on,
    }


_BALANCE_FIELDS = {"credits", "limits", "used_today", "last_reset_on"}
# What a user's `privacy.show_email: false` hides from support staff (not admins).
_EMAIL_FIELDS = {"email", "pending_email"}


def support_user_body(user: User, level: str) -> dict:
    """The user as this staff level sees them: VISIBLE_FIELDS of the level only; the
    addresses are null when the user's `privacy.show_email` is false."""
    visible = VISIBLE_FIELDS.get(level, ())
    hides_email = (
        _EMAIL_FIELDS & set(visible) and not (effective_preferences(user)["privacy"]["show_email"])
    )
    body = {}
    balance = _balance(user) if _BALANCE_FIELDS & set(visible) else {}
    for field in visible:
        if field == "tenant":
            body[field] = _tenant(user)
        elif field in _BALANCE_FIELDS:
            body[field] = balance[field]
        elif field == "subscription_plan":
            body[field] = user.subscription_plan_id
        elif field in _EMAIL_FIELDS and hides_email:
            body[field] = None
        else:
            body[field] = getattr(user, field)
    return body


class SupportUserSerializer(serializers.Serializer):
    """The user as the highest level sees them; lower levels see fewer of these fields
    (`GET /v1/support/permissions` names them)."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    subscription_plan = serializers.CharField()
    tenant = serializers.DictField(allow_null=True)
    created_at = serializers.DateTimeField()
    email = serializers.EmailField(required=False, allow_null=True)
    is_verified = serializers.BooleanField(required=False)
    credits = serializers.DictField(required=False)
    limits = serializers.DictField(required=False)
    first_name = serializers.CharField(required=False)
    last_name = serializers.CharField(required=False)
    user_type = serializers.CharField(required=False)
    about_me = serializers.CharField(required=False)
    hobbies = serializers.CharField(required=False)
    pending_email = serializers.CharField(required=False, allow_null=True)
    last_login = serializers.DateTimeField(required=False, allow_null=True)
    updated_at = serializers.DateTimeField(required=False)
    used_today = serializers.IntegerField(required=False)
    last_reset_on = serializers.DateField(required=False, allow_null=True)


class SupportUserFilterSerializer(serializers.Serializer):
    search = serializers.CharField(required=False, max_length=100)
    status = serializers.ChoiceField(choices=User.Status.choices, required=False)


class SupportUserUpdateSerializer(serializers.Serializer):
    """Every field a level may change; which ones this level may is `EDITABLE_FIELDS`."""

    email = serializers.EmailField(max_length=254, required=False)
    # A plan code; the plans service refuses an unknown or inactive one (400).
    subscription_plan = serializers.SlugField(max_length=50, required=False)
    name = name_field(required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    about_me = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    hobbies = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    user_type = serializers.ChoiceField(choices=User.UserType.choices, required=False)
    status = serializers.ChoiceField(
        choices=[str(status) for status in STAFF_SETTABLE_STATUSES], required=False
    )


class SupportPasswordResetSerializer(serializers.Serializer):
    new_password = password_field()


class SupportCreditsSerializer(CreditChangeSerializer):
    """`{"credits": {"main", "reset"}, "limits": {"conversation_limit", "reset"}}`."""


class SupportPlanSerializer(serializers.Serializer):
    """An active plan's code (`GET /api/v1/plans` lists them) and an optional reason."""

    subscription_plan = serializers.SlugField(max_length=50)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
