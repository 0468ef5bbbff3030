from rest_framework import serializers

from oauth.models import Application
from oauth.services import RegisteredApplication

ONCE_NOTE = "The client secret is shown only now; it is stored hashed and cannot be shown again."


def _uris(text: str) -> list[str]:
    return text.split()


class ApplicationSerializer(serializers.ModelSerializer):
    client_type = serializers.CharField(read_only=True)
    authorization_grant_type = serializers.CharField(read_only=True)
    algorithm = serializers.CharField(read_only=True)
    redirect_uris = serializers.SerializerMethodField()
    post_logout_redirect_uris = serializers.SerializerMethodField()
    allowed_origins = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = [
            "id",
            "client_id",
            "name",
            "client_type",
            "authorization_grant_type",
            "redirect_uris",
            "post_logout_redirect_uris",
            "allowed_origins",
            "algorithm",
            "tenant_id",
            "created",
            "updated",
        ]
        read_only_fields = fields

    def get_redirect_uris(self, application: Application) -> list[str]:
        return _uris(application.redirect_uris)

    def get_post_logout_redirect_uris(self, application: Application) -> list[str]:
        return _uris(application.post_logout_redirect_uris)

    def get_allowed_origins(self, application: Application) -> list[str]:
        return _uris(application.allowed_origins)


class ApplicationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False)
    redirect_uris = serializers.ListField(
        child=serializers.CharField(max_length=2000), max_length=20, required=False
    )
    post_logout_redirect_uris = serializers.ListField(
        child=serializers.CharField(max_length=2000), max_length=20, required=False
    )
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=2000), max_length=20, required=False
    )

    def to_service_fields(self) -> dict:
        return {
            name: " ".join(value) if isinstance(value, list) else value
            for name, value in self.validated_data.items()
        }


class ApplicationCreateSerializer(ApplicationUpdateSerializer):
    name = serializers.CharField(max_length=255)
    client_type = serializers.ChoiceField(
        choices=[Application.CLIENT_CONFIDENTIAL, Application.CLIENT_PUBLIC]
    )
    authorization_grant_type = serializers.ChoiceField(
        choices=[Application.GRANT_AUTHORIZATION_CODE, Application.GRANT_CLIENT_CREDENTIALS]
    )
    tenant_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Platform admins only; others register for their own tenant.",
    )


class RegisteredApplicationSerializer(ApplicationSerializer):
    client_secret = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField()

    class Meta(ApplicationSerializer.Meta):
        fields = [*ApplicationSerializer.Meta.fields, "client_secret", "note"]
        read_only_fields = fields

    def get_client_secret(self, application: Application) -> str | None:
        return self.context.get("client_secret")

    def get_note(self, application: Application) -> str:
        return ONCE_NOTE


def registered_body(registered: RegisteredApplication) -> dict:
    return RegisteredApplicationSerializer(
        registered.application, context={"client_secret": registered.client_secret}
    ).data


def secret_body(application: Application, secret: str) -> dict:
    return RegisteredApplicationSerializer(application, context={"client_secret": secret}).data
