"""Request and response shapes of the account APIs (both surfaces)."""

from django.conf import settings
from rest_framework import serializers

from accounts.models import User, username_validator

_PREFERENCES_MAX_KEYS = 100


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


class UserSerializer(serializers.ModelSerializer):
    """The account as its owner and staff see it."""

    role = serializers.CharField(source="role_name", read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "username",
            "name",
            "first_name",
            "last_name",
            "status",
            "user_type",
            "about_me",
            "hobbies",
            "subscription_plan",
            "is_verified",
            "is_staff",
            "role",
            "tenant_id",
            "preferences",
            "last_login",
            "password_changed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProfileUpdateSerializer(serializers.Serializer):
    """The only fields a user may change on their own account; anything else is ignored."""

    name = name_field(required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    about_me = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    hobbies = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    user_type = serializers.ChoiceField(choices=User.UserType.choices, required=False)
    preferences = serializers.DictField(required=False)

    def validate_preferences(self, value: dict) -> dict:
        if len(value) > _PREFERENCES_MAX_KEYS:
            raise serializers.ValidationError(
                f"At most {_PREFERENCES_MAX_KEYS} preference keys are allowed."
            )
        return value


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
            "status",
            "created_at",
            "last_login",
        ]
        read_only_fields = fields


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
    verification_required = serializers.BooleanField()


class ProductLoginSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    user = ProductUserSerializer()
    session = ProductSessionSerializer()


class ProductProfileResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    user = ProductProfileSerializer()


class ProductMessageSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()


class ProductPasswordChangedSerializer(ProductMessageSerializer):
    session = ProductSessionSerializer()
