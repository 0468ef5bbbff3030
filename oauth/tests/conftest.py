"""The provider on a live gunicorn, driven like a browser plus a real OAuth client.

`Browser` signs in on the HTML pages and consents as a person would (cookies, the
CSRF token, the hidden fields of the consent form); Authlib's `OAuth2Client` is the
relying party: it builds the authorization URL with PKCE, exchanges the code,
refreshes, revokes and introspects.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client

from conftest import LiveService, _start_service

PASSWORD = "SecurePass123"
REDIRECT_URI = "http://127.0.0.1:9/callback"
OTHER_REDIRECT_URI = "http://127.0.0.1:9/elsewhere"
# Every test signs in from loopback; the limits themselves are tested in-process.
SERVICE_SETTINGS = {
    "FIREWALL_ENABLED": "false",
    "RATELIMIT_LOGIN": "1000/m",
    "RATELIMIT_LOGIN_ACCOUNT": "1000/m",
}


@pytest.fixture(scope="module")
def oauth_service(django_db_setup, tmp_path_factory) -> Iterator[LiveService]:
    yield from _start_service(tmp_path_factory, SERVICE_SETTINGS)


def _hidden_fields(html: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="hidden"' in tag:
            fields[unescape(name.group(1))] = unescape(value.group(1)) if value else ""
    return fields


@dataclass
class Browser:
    """A person's browser: follows the sign-in and consent pages by hand."""

    http: httpx.Client

    def csrf_post(self, path: str, data: dict) -> httpx.Response:
        page = self.http.get(path)
        token = _hidden_fields(page.text).get("csrfmiddlewaretoken", "")
        return self.http.post(path, data={**data, "csrfmiddlewaretoken": token})

    def sign_in(
        self, username: str, password: str = PASSWORD, next_url: str = ""
    ) -> httpx.Response:
        return self.csrf_post(
            "/oauth/login/", {"username": username, "password": password, "next": next_url}
        )

    def enter_code(self, code: str, next_url: str = "") -> httpx.Response:
        return self.csrf_post("/oauth/login/mfa/", {"code": code, "next": next_url})

    def consent_page(self, authorization_url: str) -> httpx.Response:
        return self.http.get(authorization_url)

    def consent(self, authorization_url: str, *, allow: bool = True) -> httpx.Response:
        """Open the consent page and answer it; returns the redirect to the client."""
        page = self.consent_page(authorization_url)
        assert page.status_code == 200, page.text
        fields = _hidden_fields(page.text)
        if allow:
            fields["allow"] = "Authorize"
        return self.http.post(
            authorization_url.split("?")[0], data=fields, headers={"Referer": authorization_url}
        )


@pytest.fixture
def browser(oauth_service) -> Iterator[Browser]:
    with httpx.Client(base_url=oauth_service.url, timeout=30, follow_redirects=False) as http:
        yield Browser(http)


def relying_party(service: LiveService, application, secret: str | None, **kwargs) -> OAuth2Client:
    return OAuth2Client(
        client_id=application.client_id,
        client_secret=secret,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
        base_url=service.url,
        timeout=30,
        **kwargs,
    )


@dataclass
class World:
    tenant: object
    other_tenant: object
    member: object  # built-in `user` role
    moderator: object
    admin: object
    outsider: object  # a member of the other tenant
    public_app: object
    confidential_app: object
    confidential_secret: str
    machine_app: object
    machine_secret: str
    other_app: object
    other_secret: str
    other_machine_app: object
    other_machine_secret: str


@pytest.fixture
def world(transactional_db) -> World:
    from accounts.models import Role
    from accounts.tests.factories import UserFactory
    from oauth.services import application_create
    from tenants.models import Tenant

    roles = {role.name: role for role in Role.objects.filter(tenant__isnull=True)}
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    other = Tenant.objects.create(name="Globex", slug="globex")
    admin = UserFactory(
        username="acme_admin", tenant=tenant, role=roles["admin"], password=PASSWORD
    )
    other_admin = UserFactory(
        username="globex_admin", tenant=other, role=roles["admin"], password=PASSWORD
    )

    def register(actor, client_type, grant="authorization-code", uris=REDIRECT_URI):
        return application_create(
            actor=actor,
            name=f"{client_type} {grant}",
            client_type=client_type,
            authorization_grant_type=grant,
            redirect_uris=uris if grant == "authorization-code" else "",
        )

    public = register(admin, "public")
    confidential = register(admin, "confidential")
    machine = register(admin, "confidential", "client-credentials")
    other_app = register(other_admin, "confidential")
    other_machine = register(other_admin, "confidential", "client-credentials")
    return World(
        tenant=tenant,
        other_tenant=other,
        member=UserFactory(username="acme_member", tenant=tenant, password=PASSWORD),
        moderator=UserFactory(
            username="acme_moderator", tenant=tenant, role=roles["moderator"], password=PASSWORD
        ),
        admin=admin,
        outsider=UserFactory(username="globex_member", tenant=other, password=PASSWORD),
        public_app=public.application,
        confidential_app=confidential.application,
        confidential_secret=confidential.client_secret,
        machine_app=machine.application,
        machine_secret=machine.client_secret,
        other_app=other_app.application,
        other_secret=other_app.client_secret,
        other_machine_app=other_machine.application,
        other_machine_secret=other_machine.client_secret,
    )
