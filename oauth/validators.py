"""django-oauth-toolkit's validator, bound to our tenants, roles and login sessions.

- Only accounts of an application's tenant may authorize it (platform applications,
  without a tenant, only platform accounts); every token check asks again.
- An authorization code remembers the login session it was given in; its tokens
  (and every refresh-token rotation of them) live only while that session is live
  and its account may hold a session (not suspended, deleted, or of a deactivated
  tenant). Revoking the session, a password change or a suspension ends them at once.
- Permission scopes are granted only when the user's role holds them now.
- Public clients must use PKCE (S256 only: `COMPLIANT_BCP_RFC9700_PKCE_METHOD`).
"""

import hashlib

from django.utils import timezone
from oauth2_provider.models import get_application_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from accounts.authz.rules import role_permissions_of
from accounts.models import LoginSession, User
from accounts.selectors import account_status_error
from oauth.models import GrantSession, TokenFamilySession
from oauth.scopes import permission_scopes


def pkce_required(client_id: str) -> bool:
    """Public clients cannot keep a secret, so the PKCE verifier is theirs."""
    client_type = (
        get_application_model()
        .objects.filter(client_id=client_id)
        .values_list("client_type", flat=True)
        .first()
    )
    return client_type != get_application_model().CLIENT_CONFIDENTIAL


def user_may_use(application, user: User | None) -> bool:
    """Whether `user` may hold tokens of `application`: same tenant, account usable."""
    if user is None:
        return True  # client credentials: the application acts for itself
    if not user.is_active or account_status_error(user) is not None:
        return False
    return application.tenant_id == user.tenant_id


def session_is_live(login_session_id) -> bool:
    if login_session_id is None:
        return False
    session = LoginSession.objects.filter(pk=login_session_id).first()
    return session is not None and session.is_active_at(timezone.now())


def login_session_of_access_token(access_token):
    """The id of the login session behind an access token (through its refresh-token
    family), or None."""
    refresh = (
        get_refresh_token_model()
        .objects.filter(access_token=access_token)
        .values_list("token_family", flat=True)
        .first()
    )
    if refresh is None and access_token.source_refresh_token_id is not None:
        refresh = (
            get_refresh_token_model()
            .objects.filter(pk=access_token.source_refresh_token_id)
            .values_list("token_family", flat=True)
            .first()
        )
    if refresh is None:
        return None
    return (
        TokenFamilySession.objects.filter(token_family=refresh)
        .values_list("login_session_id", flat=True)
        .first()
    )


def access_token_usable(access_token) -> bool:
    """A user's token is usable while its session is live and its user may use the
    application; a client-credentials token while its application is."""
    application = access_token.application
    if application is None:
        return False
    if access_token.user_id is None:
        return True
    user = User.objects.select_related("tenant", "role").get(pk=access_token.user_id)
    return user_may_use(application, user) and session_is_live(
        login_session_of_access_token(access_token)
    )


class TenantOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = {
        "sub": "openid",
        "name": "profile",
        "preferred_username": "profile",
        "email": "email",
        "email_verified": "email",
    }

    def get_additional_claims(self, request):
        user = request.user
        return {
            "name": user.name or user.username,
            "preferred_username": user.username,
            "email": user.email,
            "email_verified": bool(user.is_verified),
        }

    def validate_silent_login(self, request):
        """`prompt=none`: consent is always asked (REQUEST_APPROVAL_PROMPT "force"), so
        a silent answer is never given; the client hears login_required."""
        return False

    def validate_silent_authorization(self, request):
        return False

    def is_pkce_required(self, client_id, request):
        return pkce_required(client_id)

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        if not super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return False
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return True  # the authorization step checks again with the user known
        return permission_scopes(scopes) <= role_permissions_of(user)

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        """Only a user of the application's tenant gets a code, bound to their session."""
        login_session_id = getattr(request, "login_session_id", None)
        if not user_may_use(request.client, request.user) or not session_is_live(login_session_id):
            raise errors.AccessDeniedError(request=request)
        grant = self._create_authorization_code(request, code)
        GrantSession.objects.create(grant=grant, login_session_id=login_session_id)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        link = (
            GrantSession.objects.filter(grant__code=code, grant__application=client)
            .values_list("login_session_id", flat=True)
            .first()
        )
        if not session_is_live(link) or not user_may_use(client, request.user):
            return False
        request.login_session_id = link
        return True

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        family = request.refresh_token_instance.token_family
        link = (
            TokenFamilySession.objects.filter(token_family=family)
            .values_list("login_session_id", flat=True)
            .first()
        )
        user = User.objects.select_related("tenant", "role").get(pk=request.user.pk)
        return session_is_live(link) and user_may_use(client, user)

    def _save_bearer_token(self, token, request, *args, **kwargs):
        super()._save_bearer_token(token, request, *args, **kwargs)
        login_session_id = getattr(request, "login_session_id", None)
        if request.grant_type != "authorization_code" or not token.get("refresh_token"):
            return
        checksum = hashlib.sha256(token["refresh_token"].encode()).hexdigest()
        family = (
            get_refresh_token_model()
            .objects.filter(token_checksum=checksum)
            .values_list("token_family", flat=True)
            .first()
        )
        TokenFamilySession.objects.get_or_create(
            token_family=family, defaults={"login_session_id": login_session_id}
        )

    def validate_bearer_token(self, token, scopes, request):
        if not super().validate_bearer_token(token, scopes, request):
            return False
        return access_token_usable(request.access_token)
