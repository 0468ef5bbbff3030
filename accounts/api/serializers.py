"""Request and response shapes of the account APIs (both surfaces)."""

from django.conf import settings
from rest_framework import serializers

from accounts import preferences as prefs
from accounts.models import PreferenceChange, User, username_validator
from accounts.phones import PHONE_INPUT_MAX_LENGTH
from accounts.selectors import email_visible_to


def password_field(**kwargs) -> serializers.CharField:
    """A password as typed: never trimmed, refused before hashing when absurdly long."""
    return serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=settings.PASSWORD_MAX_LENGTH,
        style={"input_type": "password"},
        **kwargs,
    )


def name_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(min_length=2, max_length=100, **kwargs)


class _RegisterBase(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    username = serializers.CharField(min_length=3, max_length=50, validators=[username_validator])
    password = password_field()


class RegisterSerializer(_RegisterBase):
    """Registration body of the REST API."""

    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    name = name_field(required=False)
    tenant_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class ProductRegisterSerializer(_RegisterBase):
    """Registration body of the /v1/users API."""

    name = name_field()
    user_type = serializers.ChoiceField(
        choices=User.UserType.choices, default=User.UserType.PERSONAL
    )
    about_me = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    hobbies = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class LoginSerializer(serializers.Serializer):
    """Either `email` or `username` (each accepts the other's value too) and a password."""

    email = serializers.CharField(max_length=254, required=False)
    username = serializers.CharField(max_length=254, required=False)
    password = password_field()
    tenant_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    remember_me = serializers.BooleanField(default=False)

    def validate(self, attrs: dict) -> dict:
        identifier = attrs.get("email") or attrs.get("username")
        if not identifier:
            raise serializers.ValidationError("Either email or username is required.")
        attrs["identifier"] = identifier
        return attrs


class RefreshSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=4096, trim_whitespace=True)


class ChangePasswordSerializer(serializers.Serializer):
    current_password = password_field()
    new_password = password_field()


class ProductChangePasswordSerializer(serializers.Serializer):
    """The /v1/users/password body; `old_password` is accepted as an alias."""

    current_password = password_field(required=False)
    old_password = password_field(required=False)
    new_password = password_field()

    def validate(self, attrs: dict) -> dict:
        current = attrs.get("current_password") or attrs.get("old_password")
        if current is None:
            raise serializers.ValidationError({"current_password": ["This field is required."]})
        attrs["current_password"] = current
        return attrs


class ReadOnlySerializer(serializers.Serializer):
    """A read-only serializer that renders without DRF's per-instance field copies.

    DRF deep-copies every declared field for each serializer instance; on a hot
    read path that costs more than the rest of the request. The declared fields
    (which the OpenAPI schema reads) are used unbound to render each value.
    """

    _render_plan: tuple | None = None

    @classmethod
    def render_plan(cls) -> tuple:
        if cls.__dict__.get("_render_plan") is None:
            cls._render_plan = tuple(
                (name, field.source or name, field.to_representation)
                for name, field in cls._declared_fields.items()
            )
        return cls._render_plan

    def to_representation(self, instance) -> dict:
        data = {}
        for name, source, render in self.render_plan():
            value = getattr(instance, source)
            data[name] = None if value is None else render(value)
        return data


class UserSerializer(ReadOnlySerializer):
    """The account as its owner and staff see it. With a `viewer` in the context,
    `email` is null where the user's `privacy.show_email` hides it from that viewer;
    `preferences` are the user's own choices (the effective document is at
    `/api/v1/users/me/preferences`)."""

    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True, allow_null=True)
    username = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    first_name = serializers.CharField(read_only=True)
    last_name = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=User.Status.choices, read_only=True)
    user_type = serializers.ChoiceField(choices=User.UserType.choices, read_only=True)
    about_me = serializers.CharField(read_only=True)
    hobbies = serializers.CharField(read_only=True)
    subscription_plan = serializers.CharField(source="subscription_plan_id", read_only=True)
    phone = serializers.CharField(
        read_only=True, help_text='E.164, e.g. "+14155552671"; "" for none.'
    )
    avatar_url = serializers.CharField(
        read_only=True, allow_null=True, help_text="Where the avatar is served; null for none."
    )
    is_verified = serializers.BooleanField(read_only=True)
    is_staff = serializers.BooleanField(read_only=True)
    role = serializers.CharField(source="role_name", read_only=True, allow_null=True)
    tenant_id = serializers.IntegerField(read_only=True, allow_null=True)
    preferences = serializers.DictField(read_only=True)
    last_login = serializers.DateTimeField(read_only=True, allow_null=True)
    password_changed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance) -> dict:
        data = super().to_representation(instance)
        viewer = self.context.get("viewer")
        if viewer is not None and not email_visible_to(viewer, instance):
            data["email"] = None
        return data


class ProfileUpdateSerializer(serializers.Serializer):
    """The only fields a user may change on their own account; anything else is ignored."""

    name = name_field(required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    about_me = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    hobbies = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    user_type = serializers.ChoiceField(choices=User.UserType.choices, required=False)
    phone = serializers.CharField(
        max_length=PHONE_INPUT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text='International format ("+" and the country code); stored in E.164. "" clears it.',
    )
    # Merged into the stored choices and checked as PATCH /api/v1/users/me/preferences.
    preferences = serializers.DictField(required=False)


class AvatarUploadSerializer(serializers.Serializer):
    """A multipart body with the image in `avatar`; its content decides its type."""

    avatar = serializers.FileField(
        help_text="A PNG, JPEG or WebP image of at most 2 MB; stored re-encoded as WebP, "
        "at most 512 px a side, without metadata."
    )


class TokenPairSerializer(serializers.Serializer):
    """Login and refresh answer of the REST API."""

    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")
    expires_at = serializers.DateTimeField()
    refresh_expires_at = serializers.DateTimeField()
    session_id = serializers.CharField()
    user = UserSerializer()


class PasswordChangedSerializer(TokenPairSerializer):
    message = serializers.CharField()


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


# ----- /v1/users shapes --------------------------------------------------------


class ProductUserSerializer(serializers.ModelSerializer):
    # The plan's code, read without loading the plan.
    subscription_plan = serializers.CharField(source="subscription_plan_id", read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "name",
            "email",
            "user_type",
            "subscription_plan",
            "is_verified",
        ]
        read_only_fields = fields


class ProductProfileSerializer(ProductUserSerializer):
    class Meta(ProductUserSerializer.Meta):
        fields = [
            *ProductUserSerializer.Meta.fields,
            "about_me",
            "hobbies",
            "phone",
            "avatar_url",
            "status",
            "created_at",
            "last_login",
        ]
        read_only_fields = fields

    avatar_url = serializers.CharField(
        read_only=True, allow_null=True, help_text="Where the avatar is served; null for none."
    )


class ProductSessionSerializer(serializers.Serializer):
    session_token = serializers.CharField()
    refresh_token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    refresh_expires_at = serializers.DateTimeField()


class ProductRegisteredSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    api_key = serializers.CharField(help_text="The primary API key, shown this once.")
    verification_required = serializers.BooleanField()


class ProductLoginSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    user = ProductUserSerializer()
    session = ProductSessionSerializer()


class ProductProfileResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    user = ProductProfileSerializer()


class ProductProfileUpdatedSerializer(ProductProfileResponseSerializer):
    message = serializers.CharField()


class ProductMessageSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()


class ProductPasswordChangedSerializer(ProductMessageSerializer):
    session = ProductSessionSerializer()


# ----- MFA, sessions and the account lifecycle -------------------------------------


class PasswordOnlySerializer(serializers.Serializer):
    password = password_field()


class MfaCodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, trim_whitespace=True)


class PasswordAndCodeSerializer(PasswordOnlySerializer):
    code = serializers.CharField(max_length=32, trim_whitespace=True)


class MfaVerifySerializer(serializers.Serializer):
    mfa_token = serializers.CharField(max_length=128)
    code = serializers.CharField(max_length=32, trim_whitespace=True)


class TotpEnrolmentSerializer(serializers.Serializer):
    otpauth_uri = serializers.CharField()
    secret = serializers.CharField(help_text="Base32, for apps that cannot scan the QR code.")
    qr_code = serializers.CharField(help_text="An SVG image as a data URI.")


class RecoveryCodesSerializer(serializers.Serializer):
    message = serializers.CharField()
    recovery_codes = serializers.ListField(child=serializers.CharField())


class MfaRequiredSerializer(serializers.Serializer):
    mfa_required = serializers.BooleanField()
    mfa_token = serializers.CharField()
    expires_in = serializers.IntegerField()


class LoginSessionSerializer(serializers.Serializer):
    id = serializers.CharField()
    user_agent = serializers.CharField()
    ip_address = serializers.IPAddressField(allow_null=True)
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    mfa_verified = serializers.BooleanField()
    current = serializers.SerializerMethodField()

    def get_current(self, session) -> bool:
        return str(session.pk) == self.context.get("current_session_id")


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=2048)


class EmailSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class ResetConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=2048)
    new_password = password_field()


class EmailChangeSerializer(serializers.Serializer):
    """`email` (or `new_email`) and the current password."""

    email = serializers.EmailField(max_length=254, required=False)
    new_email = serializers.EmailField(max_length=254, required=False)
    password = password_field()

    def validate(self, attrs: dict) -> dict:
        attrs["email"] = attrs.get("new_email") or attrs.get("email")
        if not attrs["email"]:
            raise serializers.ValidationError({"email": ["This field is required."]})
        return attrs


class AccountDeleteSerializer(PasswordOnlySerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


# ----- user and role administration ------------------------------------------------

# Statuses staff may set directly ("deleted" goes through deletion and recovery).
MANAGEABLE_STATUS_CHOICES = [
    (User.Status.ACTIVE.value, "Active"),
    (User.Status.SUSPENDED.value, "Suspended"),
    (User.Status.PENDING.value, "Pending"),
]


class AdminUserCreateSerializer(_RegisterBase):
    name = name_field(required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    role = serializers.CharField(max_length=50, required=False)
    tenant_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    status = serializers.ChoiceField(choices=MANAGEABLE_STATUS_CHOICES, required=False)
    is_verified = serializers.BooleanField(required=False)


class AdminUserUpdateSerializer(ProfileUpdateSerializer):
    """What staff may change: the profile plus plan, verification, role and status."""

    # A plan code; `credits.services.plan_change` refuses an unknown or inactive one (400).
    subscription_plan = serializers.SlugField(max_length=50, required=False)
    is_verified = serializers.BooleanField(required=False)
    role = serializers.CharField(max_length=50, required=False)
    status = serializers.ChoiceField(choices=MANAGEABLE_STATUS_CHOICES, required=False)


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MANAGEABLE_STATUS_CHOICES)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class RoleAssignSerializer(serializers.Serializer):
    role = serializers.CharField(max_length=50)


class BulkUserSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000
    )
    status = serializers.ChoiceField(choices=MANAGEABLE_STATUS_CHOICES, required=False)
    role = serializers.CharField(max_length=50, required=False)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class UserSelectionSerializer(serializers.Serializer):
    """The user list's filters (`accounts.filters.UserFilter`) without an order: what
    the list and a bulk change select users by."""

    search = serializers.CharField(required=False, max_length=100)
    status = serializers.ChoiceField(choices=User.Status.choices, required=False)
    role = serializers.CharField(required=False, max_length=50)
    tenant = serializers.IntegerField(required=False, min_value=1)
    plan = serializers.CharField(required=False, max_length=50)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class UserFilterSerializer(UserSelectionSerializer):
    ORDERINGS = [
        "id",
        "-id",
        "created_at",
        "-created_at",
        "username",
        "-username",
        "email",
        "-email",
    ]

    ordering = serializers.ChoiceField(choices=ORDERINGS, required=False)


class StatisticsFilterSerializer(serializers.Serializer):
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)


class RoleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=50)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    permissions = serializers.ListField(child=serializers.CharField(max_length=100), max_length=100)
    tenant_id = serializers.IntegerField(read_only=True, allow_null=True)
    is_builtin = serializers.BooleanField(read_only=True)


# ----- preferences (the shapes of accounts.preferences, for the OpenAPI schema) -------
# Requests are checked against the JSON Schema of accounts.preferences, which names
# every bad path; these serializers only describe the documents.


class _NotificationsSerializer(serializers.Serializer):
    email = serializers.BooleanField()
    slack = serializers.BooleanField()
    in_app = serializers.BooleanField()
    digest = serializers.ChoiceField(choices=prefs.DIGESTS)


class _PrivacySerializer(serializers.Serializer):
    profile_visibility = serializers.ChoiceField(choices=prefs.PROFILE_VISIBILITIES)
    show_email = serializers.BooleanField()


class _IntegrationSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    label = serializers.CharField(max_length=prefs.INTEGRATION_LABEL_MAX, allow_blank=True)


_IntegrationsSerializer = type(
    "IntegrationsSerializer",
    (serializers.Serializer,),
    {name: _IntegrationSerializer() for name in prefs.INTEGRATIONS},
)


class PreferencesSerializer(serializers.Serializer):
    """The effective preferences: every key, defaults filled in."""

    theme = serializers.ChoiceField(choices=prefs.THEMES)
    language = serializers.CharField(help_text="One of PREFERENCE_LANGUAGES, e.g. `en`.")
    timezone = serializers.CharField(help_text="An IANA time zone name, e.g. `Europe/Paris`.")
    notifications = _NotificationsSerializer()
    privacy = _PrivacySerializer()
    integrations = _IntegrationsSerializer()


class PreferencesChoicesSerializer(PreferencesSerializer):
    """A document of choices: any subset of the keys (objects too may be partial)."""

    def get_fields(self) -> dict:
        fields = super().get_fields()
        for field in fields.values():
            field.required = False
        return fields


class PreferenceChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    source = serializers.ChoiceField(choices=PreferenceChange.Source.choices)
    actor = serializers.SerializerMethodField()
    before = serializers.DictField(help_text="The choices before the change.")
    after = serializers.DictField(help_text="The choices after the change.")

    def get_actor(self, change: PreferenceChange) -> dict | None:
        """Who made the change: the user, a staff member, or null for the system."""
        if change.actor_id is None:
            return None
        return {"id": change.actor_id, "username": change.actor_label}


class PublicProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    about_me = serializers.CharField()
    hobbies = serializers.CharField()
    user_type = serializers.CharField()
    tenant_id = serializers.IntegerField(allow_null=True)
    email = serializers.EmailField(allow_null=True)


class PreferencesBulkSerializer(serializers.Serializer):
    """`preferences` (merged as PATCH merges) and either `ids` or a non-empty `filter`."""

    preferences = serializers.DictField()
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000, required=False
    )
    filter = UserSelectionSerializer(required=False)

    def validate(self, attrs: dict) -> dict:
        if ("ids" in attrs) == bool(attrs.get("filter")):
            raise serializers.ValidationError("Give either `ids` or a non-empty `filter`.")
        return attrs


class PreferencesBulkResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    matched = serializers.IntegerField(help_text="Users selected.")
    updated = serializers.IntegerField(help_text="Users whose choices changed.")
    unchanged = serializers.IntegerField(help_text="Users who already had these choices.")
