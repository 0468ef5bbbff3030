"""OAuth client applications of a tenant, and the login session each grant rides on."""

import uuid

from django.db import models
from oauth2_provider.models import AbstractApplication
from oauth2_provider.settings import oauth2_settings


class Application(AbstractApplication):
    """A client registered by a tenant's admins (or, without a tenant, by platform
    staff for platform accounts). Only accounts of the application's tenant may
    authorize it, so its tokens never reach another tenant's data."""

    tenant = models.ForeignKey(
        "tenants.Tenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="oauth_applications",
    )

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        indexes = [models.Index(fields=["tenant", "-created"], name="oauth_app_tenant_created")]

    def is_usable(self, request) -> bool:
        """An application of a deactivated tenant issues and accepts no token."""
        return self.tenant_id is None or self.tenant.is_active


class GrantSession(models.Model):
    """The login session an authorization code was given in; the code's tokens
    live only while that session does."""

    grant = models.OneToOneField(
        oauth2_settings.GRANT_MODEL,
        on_delete=models.CASCADE,
        related_name="login_session_link",
    )
    login_session = models.ForeignKey(
        "accounts.LoginSession", on_delete=models.CASCADE, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.pk}:{self.login_session_id}"


class TokenFamilySession(models.Model):
    """The login session behind a refresh-token family (every rotation keeps the
    family): revoking the session, suspending or deleting the account ends refresh."""

    token_family = models.UUIDField(default=uuid.uuid4, unique=True)
    login_session = models.ForeignKey(
        "accounts.LoginSession", on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.pk}:{self.login_session_id}"


class SocialAccount(models.Model):
    """An identity at a social-login provider, linked to one of our accounts."""

    provider = models.CharField(max_length=64)
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="social_accounts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="social_account_unique")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.subject}"
