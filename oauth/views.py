"""The browser side of the provider: the sign-in page and the consent page.

The sign-in page is the API login in HTML: the same service
(`accounts.services.login`), so the account lockout (django-axes), the IP blocks,
the rate limits (same groups as `/api/v1/auth/login`, so the two share their
budgets) and the audit and security records apply alike; an account with MFA
proves its code before it gets a session. What it opens is a login session of
surface `oauth` (listed and revocable like any other) plus the browser's Django
session, which the authorize endpoint needs. Every token issued through it is
bound to that login session.
"""

import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from oauth2_provider.views import AuthorizationView

from accounts.models import LoginSession
from accounts.services.login import (
    complete_mfa_login,
    login_with_external_identity,
    login_with_password,
)
from accounts.services.sessions import ClientInfo
from core.errors import ServiceError
from oauth.models import Application
from oauth.scopes import ALL_SCOPES, permission_scopes
from oauth.selectors import login_session_is_live
from oauth.services import social_account_resolve
from oauth.social import configured_providers, social_provider
from security import ratelimits
from security.client_ip import client_ip_or_none

LOGIN_SESSION_KEY = "oauth_login_session_id"
SOCIAL_KEY = "oauth_social_sign_in"
MFA_TOKEN_KEY = "oauth_mfa_token"  # noqa: S105 (a session key name)
AUTHORIZE_PATH = "/oauth/authorize/"
LOGIN_PATH = "/oauth/login/"


def _client(request) -> ClientInfo:
    return ClientInfo(
        ip_address=client_ip_or_none(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
    )


def safe_next(request) -> str:
    """Where to go after signing in: only ever back to the authorize endpoint, so
    the page cannot be used to send a signed-in browser anywhere else."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith(AUTHORIZE_PATH) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return AUTHORIZE_PATH


def _open_browser_session(request, user, login_session_id: str) -> None:
    """Sign the browser in: `django.contrib.auth.login` would announce the login a
    second time (the service already did: lockout reset, last login, audit). As
    `login` does, a session that held another account starts empty (nothing of
    theirs, such as a pending MFA or social sign-in, carries over), else gets a new key."""
    if request.session.get(SESSION_KEY) not in (None, user._meta.pk.value_to_string(user)):
        request.session.flush()
    else:
        request.session.cycle_key()
    request.session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    request.session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    request.session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    request.session[LOGIN_SESSION_KEY] = str(login_session_id)
    request.user = user


def _refusal(request, template: str, error: ServiceError, context: dict):
    error.answered()
    return render(request, template, {**context, "error": error.message}, status=error.status_code)


class SignInView(View):
    """Password step; with MFA enrolled, the code step follows on the next page."""

    template_name = "oauth/login.html"
    defers_ip_block = True  # a blocked IP hears of the account's lockout first, as on the API

    def get(self, request):
        return render(request, self.template_name, self.context(request))

    @staticmethod
    def context(request, **extra) -> dict:
        return {
            "next": safe_next(request),
            "social_providers": list(configured_providers().values()),
            **extra,
        }

    def post(self, request):
        context = self.context(request, identifier=request.POST.get("username", ""))
        try:
            for limit in (ratelimits.LOGIN_PER_IP, ratelimits.LOGIN_PER_ACCOUNT):
                ratelimits.enforce(request, limit)
            result = login_with_password(
                request=request,
                identifier=request.POST.get("username", "").strip(),
                password=request.POST.get("password", ""),
                client=_client(request),
                surface=LoginSession.Surface.OAUTH,
            )
        except ServiceError as error:
            return _refusal(request, self.template_name, error, context)
        return _finish_sign_in(request, result, context["next"])


class SignInCodeView(View):
    """The TOTP (or recovery code) step of a sign-in whose password was proven."""

    template_name = "oauth/login_mfa.html"
    defers_ip_block = True

    def get(self, request):
        if not request.session.get(MFA_TOKEN_KEY):
            return redirect(LOGIN_PATH)
        return render(request, self.template_name, {"next": safe_next(request)})

    def post(self, request):
        context = {"next": safe_next(request)}
        mfa_token = request.session.get(MFA_TOKEN_KEY)
        if not mfa_token:
            return redirect(LOGIN_PATH)
        try:
            ratelimits.enforce(request, ratelimits.MFA_PER_USER)
            result = complete_mfa_login(
                request=request,
                mfa_token=mfa_token,
                code=request.POST.get("code", "").strip(),
                client=_client(request),
            )
        except ServiceError as error:
            return _refusal(request, self.template_name, error, context)
        request.session.pop(MFA_TOKEN_KEY, None)
        _open_browser_session(request, result.user, result.tokens.session_id)
        return redirect(context["next"])


def _finish_sign_in(request, result, next_url: str):
    """After a proven first factor: the code step when MFA is enrolled, else signed in."""
    if result.mfa_token:
        request.session[MFA_TOKEN_KEY] = result.mfa_token
        return redirect(f"{LOGIN_PATH}mfa/?{urlencode({'next': next_url})}")
    _open_browser_session(request, result.user, result.tokens.session_id)
    return redirect(next_url)


class SocialStartView(View):
    """Send the browser to a social-login provider (state and PKCE kept in the session)."""

    def get(self, request, provider_name: str):
        provider = social_provider(provider_name)
        if provider is None:
            return render(request, "oauth/refused.html", {"message": "Unknown provider."}, 404)
        state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        request.session[SOCIAL_KEY] = {
            "provider": provider.name,
            "state": state,
            "verifier": verifier,
            "next": safe_next(request),
        }
        return redirect(
            provider.authorization_url(
                redirect_uri=_social_callback_uri(request, provider.name),
                state=state,
                code_verifier=verifier,
            )
        )


class SocialCallbackView(View):
    """The provider's answer: the state must be the one this browser was sent with."""

    template_name = "oauth/login.html"
    defers_ip_block = True

    def get(self, request, provider_name: str):
        pending = request.session.pop(SOCIAL_KEY, None) or {}
        provider = social_provider(provider_name)
        state = request.GET.get("state", "")
        if (
            provider is None
            or pending.get("provider") != provider_name
            or not state
            or not secrets.compare_digest(state, pending.get("state", ""))
            or "code" not in request.GET
        ):
            return render(
                request,
                "oauth/refused.html",
                {"message": "This sign-in was not started here, or has expired; start again."},
                status=400,
            )
        next_url = pending.get("next") or AUTHORIZE_PATH
        try:
            ratelimits.enforce(request, ratelimits.LOGIN_PER_IP)
            identity = provider.identity(
                code=request.GET["code"],
                redirect_uri=_social_callback_uri(request, provider_name),
                code_verifier=pending["verifier"],
            )
            user = social_account_resolve(provider=provider, identity=identity)
            result = login_with_external_identity(
                request=request, user=user, client=_client(request)
            )
        except ServiceError as error:
            return _refusal(request, self.template_name, error, {"next": next_url})
        return _finish_sign_in(request, result, next_url)


def _social_callback_uri(request, provider_name: str) -> str:
    return request.build_absolute_uri(f"/oauth/social/{provider_name}/callback/")


# The columns of the toolkit's Grant that keep these request parameters.
PARAMETER_MAX_LENGTHS = {"nonce": 255, "code_challenge": 128}


def _refused(request, message: str):
    return render(request, "oauth/refused.html", {"message": message}, status=400)


class ConsentView(AuthorizationView):
    """The authorize endpoint: a signed-in member of the application's tenant
    consents to the scopes their role holds; everyone else is sent to sign in, or
    refused without any redirect to the client."""

    template_name = "oauth/authorize.html"
    login_url = LOGIN_PATH

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not login_session_is_live(
            request.session.get(LOGIN_SESSION_KEY), user=request.user
        ):
            # Signed in elsewhere (the admin) or the login session has ended: sign in here.
            logout(request)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self._refused_parameters(request, request.GET) or super().get(
            request, *args, **kwargs
        )

    def post(self, request, *args, **kwargs):
        refusal = self._refused_parameters(request, request.POST)
        if refusal is None and not (
            Application.objects.filter(client_id=request.POST.get("client_id", "")).exists()
        ):
            refusal = _refused(request, "Unknown application.")
        return refusal or super().post(request, *args, **kwargs)

    @staticmethod
    def _refused_parameters(request, params):
        """What the toolkit would store and cannot (over its columns' lengths), and
        PKCE other than S256 ("plain" hands the verifier to whoever sees the request)."""
        if "code_challenge" in params and params.get("code_challenge_method") != "S256":
            return _refused(request, 'PKCE needs code_challenge_method "S256".')
        for name, longest in PARAMETER_MAX_LENGTHS.items():
            if len(params.get(name, "")) > longest:
                return _refused(request, f"{name} is longer than {longest} characters.")
        return None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        requested = kwargs.get("scopes") or context.get("scopes") or []
        held = self.request.user.role.permissions if self.request.user.role_id else []
        context["scope_rows"] = [
            {
                "name": scope,
                "description": ALL_SCOPES.get(scope, scope),
                "held": scope not in permission_scopes([scope]) or scope in held,
            }
            for scope in requested
        ]
        context["refused_scopes"] = [
            row["name"] for row in context["scope_rows"] if not row["held"]
        ]
        return context

    def render_to_response(self, context, **response_kwargs):
        application = context.get("application")
        if application is not None and application.tenant_id != self.request.user.tenant_id:
            return render(
                self.request,
                "oauth/refused.html",
                {"message": "This application belongs to another organisation."},
                status=403,
            )
        return super().render_to_response(context, **response_kwargs)

    def create_authorization_response(self, request, scopes, credentials, allow):
        credentials["login_session_id"] = request.session.get(LOGIN_SESSION_KEY)
        return super().create_authorization_response(request, scopes, credentials, allow)
