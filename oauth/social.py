"""Social login: pluggable identity providers for the sign-in page.

A provider is a `SocialProvider`: it sends the browser to its authorization page
and, with the code that comes back, names the person (`SocialIdentity`). The ones
in use are listed in the SOCIAL_LOGIN_PROVIDERS setting, by name:

    {"acme-id": {"class": "oauth.social.OpenIDConnectProvider", "label": "Acme ID",
                 "authorization_endpoint": "...", "token_endpoint": "...",
                 "userinfo_endpoint": "...", "client_id": "...", "client_secret": "...",
                 "scope": "openid email profile", "trust_email": true}}

`OpenIDConnectProvider` speaks the authorization-code flow with PKCE (S256) to any
OpenID Connect or OAuth 2.0 provider with a userinfo endpoint (Google, Microsoft,
GitLab, Keycloak, ...). Another kind of provider is a subclass of `SocialProvider`
named by its dotted path in "class"; every other key of its entry is its options.

An identity signs in the account linked to it (`SocialAccount`); the first time,
it is linked to the account with the same email only when the provider's entry
says `trust_email` and the provider says the email is verified. Nothing else is
ever linked or created here, so a provider cannot hand someone another's account.
"""

import base64
import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.utils.module_loading import import_string

from core.errors import AuthenticationError, ServiceUnavailable


@dataclass(frozen=True)
class SocialIdentity:
    subject: str
    email: str = ""
    email_verified: bool = False
    name: str = ""


class SocialProvider:
    """The interface of an identity provider; `options` is its settings entry."""

    def __init__(self, name: str, options: dict) -> None:
        self.name = name
        self.options = options
        self.label = options.get("label", name)
        self.trust_email = bool(options.get("trust_email", False))

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        raise NotImplementedError

    def identity(self, *, code: str, redirect_uri: str, code_verifier: str) -> SocialIdentity:
        """The person the code names; AuthenticationError when the provider refuses it,
        ServiceUnavailable when it cannot be reached."""
        raise NotImplementedError


def s256_challenge(code_verifier: str) -> str:
    digest = hashlib.sha256(code_verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class OpenIDConnectProvider(SocialProvider):
    timeout_seconds = 10

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.options["client_id"],
            "redirect_uri": redirect_uri,
            "scope": self.options.get("scope", "openid email profile"),
            "state": state,
            "code_challenge": s256_challenge(code_verifier),
            "code_challenge_method": "S256",
        }
        return f"{self.options['authorization_endpoint']}?{urlencode(query)}"

    def identity(self, *, code: str, redirect_uri: str, code_verifier: str) -> SocialIdentity:
        try:
            with httpx.Client(timeout=self.timeout_seconds, follow_redirects=False) as http:
                token = http.post(
                    self.options["token_endpoint"],
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": redirect_uri,
                        "code_verifier": code_verifier,
                    },
                    auth=(self.options["client_id"], self.options.get("client_secret", "")),
                    headers={"Accept": "application/json"},
                )
                if token.status_code != 200 or "access_token" not in token.json():
                    raise AuthenticationError(f"{self.label} did not accept the sign-in.")
                info = http.get(
                    self.options["userinfo_endpoint"],
                    headers={"Authorization": f"Bearer {token.json()['access_token']}"},
                )
                if info.status_code != 200:
                    raise AuthenticationError(f"{self.label} did not say who signed in.")
                claims = info.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ServiceUnavailable(f"{self.label} cannot be reached; try again.") from error
        subject = str(claims.get("sub") or claims.get("id") or "")
        if not subject:
            raise AuthenticationError(f"{self.label} did not say who signed in.")
        return SocialIdentity(
            subject=subject,
            email=str(claims.get("email") or ""),
            email_verified=claims.get("email_verified") is True,
            name=str(claims.get("name") or ""),
        )


def configured_providers() -> dict[str, SocialProvider]:
    providers = {}
    for name, options in settings.SOCIAL_LOGIN_PROVIDERS.items():
        cls = import_string(options.get("class", "oauth.social.OpenIDConnectProvider"))
        providers[name] = cls(name, options)
    return providers


def social_provider(name: str) -> SocialProvider | None:
    return configured_providers().get(name)
