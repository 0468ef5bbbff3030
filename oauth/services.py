"""Changes to OAuth applications: made by a tenant's admins for their tenant (or by
platform admins), audited in the same transaction. The client secret is shown once."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import clear_expired, get_access_token_model, get_refresh_token_model

from accounts.models import User
from core.errors import AuthenticationError, ValidationFailed
from oauth.models import Application, SocialAccount
from oauth.selectors import application_tenant_for
from security.models import AuditAction
from security.services.audit import audit_record, field_changes, snapshot

EDITABLE_FIELDS = ("name", "redirect_uris", "post_logout_redirect_uris", "allowed_origins")
AUDITED_FIELDS = (*EDITABLE_FIELDS, "client_type", "authorization_grant_type")


def _validated(application: Application) -> None:
    """The toolkit's own checks (redirect URIs: absolute, no fragment, an allowed
    scheme), plus: a public client cannot keep a secret, so no client credentials."""
    problems = []
    if (
        application.client_type == Application.CLIENT_PUBLIC
        and application.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    ):
        problems.append("client_type: a public client cannot use client credentials.")
    try:
        application.full_clean(exclude=["client_secret", "user"])
    except ValidationError as error:
        problems += [
            f"{field}: {message}"
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    if problems:
        raise ValidationFailed("The application is not valid.", errors=problems)


@dataclass(frozen=True)
class RegisteredApplication:
    application: Application
    client_secret: str | None  # clear, once; None for public clients


def application_create(
    *,
    actor: User,
    tenant_id: int | None = None,
    name: str,
    client_type: str,
    authorization_grant_type: str,
    redirect_uris: str = "",
    post_logout_redirect_uris: str = "",
    allowed_origins: str = "",
) -> RegisteredApplication:
    """Register a client of the actor's tenant (a platform admin names `tenant_id`,
    or none for a platform application); its ID tokens are signed with RS256."""
    tenant_id = application_tenant_for(actor, tenant_id)
    secret = generate_client_secret() if client_type == Application.CLIENT_CONFIDENTIAL else ""
    application = Application(
        tenant_id=tenant_id,
        user=actor,
        name=name,
        client_type=client_type,
        authorization_grant_type=authorization_grant_type,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout_redirect_uris,
        allowed_origins=allowed_origins,
        client_secret=secret,
        hash_client_secret=True,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=False,
    )
    _validated(application)
    with transaction.atomic():
        application.save()
        audit_record(
            action=AuditAction.OAUTH_APPLICATION_CREATE,
            actor=actor,
            target=application,
            changes=snapshot(application, AUDITED_FIELDS),
        )
    return RegisteredApplication(application, secret or None)


def application_update(*, actor: User, application: Application, **fields) -> Application:
    before = snapshot(application, AUDITED_FIELDS)
    for name, value in fields.items():
        if name in EDITABLE_FIELDS:
            setattr(application, name, value)
    _validated(application)
    with transaction.atomic():
        application.save()
        audit_record(
            action=AuditAction.OAUTH_APPLICATION_UPDATE,
            actor=actor,
            target=application,
            changes=field_changes(before, snapshot(application, AUDITED_FIELDS)),
        )
    return application


def application_secret_reset(*, actor: User, application: Application) -> str:
    """A new client secret (shown once); every token of the application ends."""
    if application.client_type != Application.CLIENT_CONFIDENTIAL:
        raise ValidationFailed("A public client has no secret.")
    secret = generate_client_secret()
    with transaction.atomic():
        application.client_secret = secret
        application.save(update_fields=["client_secret", "updated"])
        _end_tokens(application)
        audit_record(
            action=AuditAction.OAUTH_APPLICATION_SECRET_RESET, actor=actor, target=application
        )
    return secret


def application_delete(*, actor: User, application: Application) -> None:
    """Delete the application; its grants and tokens go with it."""
    with transaction.atomic():
        audit_record(
            action=AuditAction.OAUTH_APPLICATION_DELETE,
            actor=actor,
            target=application,
            changes=snapshot(application, AUDITED_FIELDS),
        )
        application.delete()


def _end_tokens(application: Application) -> None:
    get_refresh_token_model().objects.filter(application=application).delete()
    get_access_token_model().objects.filter(application=application).delete()


def social_account_resolve(*, provider, identity) -> User:
    """The account a provider's identity signs in: the one linked to it, else (once)
    the account whose verified email it is, when the provider is trusted for emails
    and says the email is verified; anyone else is refused with the same 401."""
    refused = AuthenticationError(f"No account here is linked to this {provider.label} identity.")
    linked = (
        SocialAccount.objects.select_related("user__tenant", "user__role")
        .filter(provider=provider.name, subject=identity.subject)
        .first()
    )
    if linked is not None:
        return linked.user
    if not (provider.trust_email and identity.email_verified and identity.email):
        raise refused
    # Only an address this account has proven: an unverified one may be a squatter's.
    matches = list(User.objects.filter(email__iexact=identity.email, is_verified=True)[:2])
    if len(matches) != 1:  # none, or an address two accounts share: nothing to trust
        raise refused
    user = matches[0]
    with transaction.atomic():
        SocialAccount.objects.create(provider=provider.name, subject=identity.subject, user=user)
        audit_record(
            action=AuditAction.SOCIAL_ACCOUNT_LINK,
            actor=user,
            target=user,
            changes={"provider": provider.name},
        )
    return user


def expired_tokens_clear(*, actor) -> None:
    """Delete expired access and refresh tokens, ID tokens and codes (the toolkit's
    `clear_expired`, in batches); what is deleted could no longer be used."""
    clear_expired()
