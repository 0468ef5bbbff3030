"""Attacks on the provider, in-process: each test names the hole it keeps shut."""

import base64
import secrets
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from accounts.models import Role
from accounts.tests.factories import UserFactory
from oauth.services import application_create
from tenants.models import Tenant

REDIRECT_URI = "https://client.example/callback"

pytestmark = pytest.mark.django_db


def _admin_of(tenant):
    role = Role.objects.get(tenant__isnull=True, name="admin")
    return UserFactory(tenant=tenant, role=role)


def _register(tenant, client_type="confidential", grant="authorization-code"):
    return application_create(
        actor=_admin_of(tenant),
        name=f"{tenant.slug} {client_type} {grant}",
        client_type=client_type,
        authorization_grant_type=grant,
        redirect_uris=REDIRECT_URI if grant == "authorization-code" else "",
    )


def _access_token(application, user, scope="openid read:self"):
    value = "oat-" + secrets.token_urlsafe(30)
    token = get_access_token_model()(
        user=user,
        application=application,
        expires=timezone.now() + timedelta(hours=1),
        scope=scope,
    )
    token._raw_token = value
    token.save()
    return value


def _basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def tenants():
    return Tenant.objects.create(name="Acme", slug="acme"), Tenant.objects.create(
        name="Globex", slug="globex"
    )


def test_introspection_answers_for_the_client_that_authenticated_not_the_one_named_in_basic(
    tenants,
):
    acme, globex = tenants
    victim_app = _register(acme).application
    attacker = _register(globex)
    token = _access_token(victim_app, None, scope="introspection")
    answer = Client().post(
        "/oauth/introspect/",
        {
            "token": token,
            "client_id": attacker.application.client_id,
            "client_secret": attacker.client_secret,
        },
        HTTP_AUTHORIZATION=_basic(victim_app.client_id, "wrong"),
    )
    assert answer.json() == {"active": False}


def test_a_public_client_cannot_introspect_with_an_empty_secret(tenants):
    acme, _ = tenants
    public = _register(acme, client_type="public").application
    token = _access_token(_register(acme).application, None, scope="introspection")
    for credentials in (
        {"HTTP_AUTHORIZATION": _basic(public.client_id, "")},
        {},
    ):
        answer = Client().post(
            "/oauth/introspect/",
            {"token": token, "client_id": public.client_id, "client_secret": ""},
            **credentials,
        )
        assert answer.status_code in (401, 403), answer.content
        assert "active" not in answer.json()


def _signed_in_browser(user):
    browser = Client()
    answer = browser.post("/oauth/login/", {"username": user.username, "password": "SecurePass123"})
    assert answer.status_code == 302, answer.content
    return browser


MALFORMED = [
    ("get", "/oauth/authorize/", {}),
    ("get", "/oauth/authorize/", {"client_id": "nope", "response_type": "code"}),
    ("get", "/oauth/authorize/", {"client_id": "\x00", "redirect_uri": "javascript:alert(1)"}),
    ("get", "/oauth/authorize/", {"response_type": "code", "scope": "\x00", "client_id": "x"}),
    ("post", "/oauth/authorize/", {"client_id": "x", "redirect_uri": "javascript:alert(1)"}),
    ("post", "/oauth/token/", {}),
    ("post", "/oauth/token/", {"grant_type": "authorization_code", "code": "\x00"}),
    ("post", "/oauth/token/", {"grant_type": "refresh_token", "refresh_token": "ort-\x00"}),
    ("post", "/oauth/token/", {"grant_type": "password", "username": "a", "password": "b"}),
    ("post", "/oauth/token/", {"grant_type": "client_credentials", "client_id": "\x00"}),
    ("post", "/oauth/revoke/", {"token": "\x00"}),
    ("post", "/oauth/introspect/", {"token": "\x00"}),
    ("get", "/oauth/introspect/", {"token": "x"}),
    ("get", "/oauth/userinfo/", {}),
    ("post", "/oauth/login/", {"username": "\x00", "password": "\x00"}),
    ("post", "/oauth/login/", {"next": "\x00"}),
    ("get", "/oauth/login/", {"next": "/oauth/authorize/\x00"}),
    ("post", "/oauth/login/mfa/", {"code": "\x00"}),
    ("get", "/oauth/social/nope/", {}),
    ("get", "/oauth/social/nope/callback/", {"state": "x", "code": "y"}),
    ("get", "/.well-known/openid-configuration", {}),
    ("get", "/.well-known/jwks.json", {}),
]
HEADERS = [
    {},
    {"HTTP_AUTHORIZATION": "Basic !!!not-base64"},
    {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode()},
    {"HTTP_AUTHORIZATION": "Bearer oat-\x00"},
    {"HTTP_AUTHORIZATION": "Bearer"},
]


@pytest.mark.parametrize(("method", "path", "data"), MALFORMED)
def test_malformed_requests_get_an_answer_not_a_500(method, path, data, tenants):
    for headers in HEADERS:
        browser = Client(raise_request_exception=False)
        answer = getattr(browser, method)(path, data, **headers)
        assert answer.status_code < 500, (path, data, headers, answer.status_code)


class _Provider:
    name = "acme-id"
    label = "Acme ID"
    trust_email = True


def test_social_login_never_links_an_account_whose_own_email_is_unproven(tenants):
    """Pre-hijack: someone registers the victim's address here (unverified), then the
    victim's first social sign-in would land in the account the squatter controls."""
    from core.errors import AuthenticationError
    from oauth.models import SocialAccount
    from oauth.services import social_account_resolve
    from oauth.social import SocialIdentity

    acme, _ = tenants
    squatted = UserFactory(tenant=acme, email="victim@example.com", is_verified=False)
    identity = SocialIdentity(subject="victim-sub", email="victim@example.com", email_verified=True)
    with pytest.raises(AuthenticationError):
        social_account_resolve(provider=_Provider(), identity=identity)
    assert not SocialAccount.objects.filter(user=squatted).exists()


PASSWORD = "SecurePass123"


def _pkce():
    import hashlib

    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _browser_of(user):
    browser = Client()
    answer = browser.post("/oauth/login/", {"username": user.username, "password": PASSWORD})
    assert answer.status_code == 302, answer.content
    return browser


def _authorize_query(application, challenge, scope="openid", **extra):
    return {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "st",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def test_consent_page_cannot_be_framed(tenants):
    acme, _ = tenants
    app = _register(acme).application
    browser = _browser_of(UserFactory(tenant=acme, password=PASSWORD))
    page = browser.get("/oauth/authorize/", _authorize_query(app, _pkce()[1]))
    assert page.status_code == 200, page.content
    assert page["X-Frame-Options"] == "DENY"


def test_another_tenants_member_gets_no_code_even_posting_the_form(tenants):
    acme, globex = tenants
    app = _register(acme).application
    browser = _browser_of(UserFactory(tenant=globex, password=PASSWORD))
    query = _authorize_query(app, _pkce()[1])
    answer = browser.post("/oauth/authorize/", {**query, "allow": "Authorize"})
    assert "code=" not in answer.get("Location", "")


def test_approval_prompt_auto_without_earlier_consent_shows_the_page(tenants):
    acme, _ = tenants
    app = _register(acme).application
    browser = _browser_of(UserFactory(tenant=acme, password=PASSWORD))
    answer = browser.get(
        "/oauth/authorize/", _authorize_query(app, _pkce()[1], approval_prompt="auto")
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "scope",
    ["openid manage:tenant", "openid write:self", "openid delete:users", "openid introspection"],
)
def test_scopes_no_token_may_carry_are_refused(tenants, scope):
    acme, _ = tenants
    app = _register(acme).application
    admin = UserFactory(
        tenant=acme, password=PASSWORD, role=Role.objects.get(tenant__isnull=True, name="admin")
    )
    browser = _browser_of(admin)
    query = _authorize_query(app, _pkce()[1], scope=scope)
    answer = browser.post("/oauth/authorize/", {**query, "allow": "Authorize"})
    assert "code=" not in answer.get("Location", ""), answer.get("Location")


def test_a_scope_the_role_holds_gets_a_code(tenants):
    acme, _ = tenants
    app = _register(acme).application
    browser = _browser_of(UserFactory(tenant=acme, password=PASSWORD))
    query = _authorize_query(app, _pkce()[1], scope="openid read:self")
    answer = browser.post("/oauth/authorize/", {**query, "allow": "Authorize"})
    assert "code=" in answer.get("Location", ""), answer.content


def test_a_machine_token_of_a_deactivated_tenant_opens_nothing(tenants):
    acme, _ = tenants
    machine = _register(acme, grant="client-credentials").application
    caller = _access_token(machine, None, scope="introspection")
    probe = _access_token(machine, None, scope="introspection")
    introspect = {"token": probe}
    auth = {"HTTP_AUTHORIZATION": f"Bearer {caller}"}
    assert Client().post("/oauth/introspect/", introspect, **auth).json()["active"] is True
    acme.is_active = False
    acme.save(update_fields=["is_active"])
    answer = Client().post("/oauth/introspect/", introspect, **auth)
    assert answer.status_code in (401, 403)


def test_jwks_publishes_no_private_part(tenants):
    keys = Client().get("/.well-known/jwks.json").json()["keys"]
    assert keys
    for key in keys:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key), key


def _token_for(user, application, scope):
    from urllib.parse import parse_qs, urlsplit

    browser = _browser_of(user)
    verifier, challenge = _pkce()
    query = _authorize_query(application, challenge, scope=scope)
    answer = browser.post("/oauth/authorize/", {**query, "allow": "Authorize"})
    code = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
    token = Client().post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": application.client_id,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.content
    return token.json()


LOGIN_ONLY = [
    (
        "post",
        "/api/v1/auth/change-password",
        {"old_password": PASSWORD, "new_password": "N3w-pass-word!"},
    ),
    (
        "post",
        "/api/v1/users/me/change-password",
        {"old_password": PASSWORD, "new_password": "N3w-pass-word!"},
    ),
    ("post", "/api/v1/api-keys", {"name": "k"}),
    ("post", "/v1/users/api-key", {}),
    ("post", "/api/v1/auth/mfa/totp/setup", {}),
    ("post", "/api/v1/auth/mfa/disable", {}),
    ("patch", "/api/v1/users/me", {"name": "owned"}),
    ("get", "/api/v1/users/me/sessions", {}),
    ("post", "/api/v1/users/me/sessions/revoke-others", {}),
    ("get", "/api/v1/users/me/export", {}),
    ("post", "/api/v1/oauth/applications", {"name": "x", "client_type": "public"}),
    ("get", "/api/v1/oauth/applications", {}),
    ("get", "/v1/admin-panel/users", {}),
    ("get", "/v1/support/tickets", {}),
    ("get", "/admin/", {}),
]


def test_an_access_token_opens_no_login_only_operation(tenants):
    acme, _ = tenants
    app = _register(acme, client_type="public").application
    admin = UserFactory(
        tenant=acme, password=PASSWORD, role=Role.objects.get(tenant__isnull=True, name="admin")
    )
    scope = "openid read:self read:models write:models read:users write:users manage:roles"
    token = _token_for(admin, app, scope)["access_token"]
    assert token.startswith("oat-")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    me = Client().get("/api/v1/users/me", **auth)
    assert me.status_code == 200, me.content
    opened = []
    for method, path, body in LOGIN_ONLY:
        answer = getattr(Client(), method)(path, body, content_type="application/json", **auth)
        if answer.status_code < 300 or answer.status_code == 400:
            opened.append((path, answer.status_code))
    assert opened == []


SIGNED_IN_MALFORMED = [
    {},
    {"client_id": "nope", "response_type": "code"},
    {"redirect_uri": "javascript:alert(1)"},
    {"redirect_uri": "https://client.example/callback/../evil"},
    {"redirect_uri": "https://client.example/callback?x=1"},
    {"redirect_uri": "https://client.example@evil.example/callback"},
    {"redirect_uri": "https://client.example/callback#frag"},
    {"response_type": "token"},
    {"response_type": "code id_token"},
    {"response_type": "nonsense"},
    {"scope": "nonsense"},
    {"scope": ""},
    {"code_challenge_method": "plain"},
    {"code_challenge": ""},
    {"claims": "{not json"},
    {"claims": '{"userinfo": 5}'},
    {"prompt": "none"},
    {"prompt": "login"},
    {"max_age": "abc"},
    {"request": "e30.e30."},
    {"approval_prompt": "auto"},
    {"nonce": "x" * 5000},
    {"code_challenge": "x" * 5000},
]


@pytest.mark.parametrize("override", SIGNED_IN_MALFORMED)
def test_authorize_with_odd_parameters_answers_without_a_500_or_a_foreign_redirect(
    tenants, override
):
    acme, _ = tenants
    app = _register(acme).application
    browser = _browser_of(UserFactory(tenant=acme, password=PASSWORD))
    browser.raise_request_exception = False
    query = {**_authorize_query(app, _pkce()[1]), **override}
    for method in ("get", "post"):
        answer = getattr(browser, method)("/oauth/authorize/", {**query, "allow": "Authorize"})
        assert answer.status_code < 500, (method, override, answer.status_code)
        location = answer.get("Location", "")
        assert not location or location.startswith(("/", REDIRECT_URI)), (method, location)


def test_plain_pkce_posted_straight_to_the_consent_form_gets_no_code(tenants):
    acme, _ = tenants
    app = _register(acme, client_type="public").application
    browser = _browser_of(UserFactory(tenant=acme, password=PASSWORD))
    query = _authorize_query(app, "a" * 43, code_challenge_method="plain")
    answer = browser.post("/oauth/authorize/", {**query, "allow": "Authorize"})
    assert "code=" not in answer.get("Location", "")


TOKEN_BODIES = [
    {"grant_type": "authorization_code", "code": "x" * 5000, "redirect_uri": REDIRECT_URI},
    {"grant_type": "authorization_code", "code": "abc", "code_verifier": "x" * 5000},
    {"grant_type": "refresh_token", "refresh_token": "ort-" + "x" * 5000},
    {"grant_type": "refresh_token", "refresh_token": "nope", "scope": "manage:tenant"},
    {"grant_type": "client_credentials", "scope": "openid read:self"},
    {"grant_type": "client_credentials", "scope": "x" * 5000},
    {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "x"},
    {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange"},
    {"grant_type": "authorization_code", "code": "abc", "resource": "x" * 5000},
]


@pytest.mark.parametrize("body", TOKEN_BODIES)
def test_token_revoke_introspect_with_an_authenticated_client_and_odd_bodies(tenants, body):
    acme, _ = tenants
    registered = _register(acme)
    auth = {
        "HTTP_AUTHORIZATION": _basic(registered.application.client_id, registered.client_secret)
    }
    client = Client(raise_request_exception=False)
    for path, data in (
        ("/oauth/token/", body),
        ("/oauth/revoke/", {"token": body.get("code") or body.get("refresh_token") or "x"}),
        ("/oauth/introspect/", {"token": "x" * 5000}),
    ):
        answer = client.post(path, data, **auth)
        assert answer.status_code < 500, (path, data, answer.status_code)
        answer = client.post(path, {**data, "client_id": registered.application.client_id})
        assert answer.status_code < 500, (path, data, answer.status_code)


def test_introspection_takes_no_token_in_a_query_string(tenants):
    acme, _ = tenants
    registered = _register(acme)
    token = _access_token(
        _register(acme, grant="client-credentials").application, None, "introspection"
    )
    auth = {
        "HTTP_AUTHORIZATION": _basic(registered.application.client_id, registered.client_secret)
    }
    answer = Client().get("/oauth/introspect/", {"token": token}, **auth)
    assert answer.status_code == 405
    assert Client().post("/oauth/introspect/", {"token": token}, **auth).json()["active"] is True


def test_a_demoted_users_token_loses_what_the_role_lost_and_refresh_cannot_widen(tenants):
    acme, _ = tenants
    app = _register(acme, client_type="public").application
    admin = UserFactory(
        tenant=acme, password=PASSWORD, role=Role.objects.get(tenant__isnull=True, name="admin")
    )
    issued = _token_for(admin, app, "openid read:self read:users")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issued['access_token']}"}
    assert Client().get("/api/v1/users", **auth).status_code == 200
    admin.role = Role.objects.get(tenant__isnull=True, name="user")
    admin.save(update_fields=["role"])
    from accounts.auth.request_cache import forget_cached_user

    forget_cached_user(admin.pk, must_succeed=False)
    assert Client().get("/api/v1/users", **auth).status_code == 403
    wider = Client().post(
        "/oauth/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": issued["refresh_token"],
            "client_id": app.client_id,
            "scope": "openid read:self read:users write:users",
        },
    )
    assert wider.status_code == 400 and "access_token" not in wider.json()


def test_the_id_token_is_rs256_with_a_published_kid_and_this_issuer(tenants):
    import jwt

    acme, _ = tenants
    app = _register(acme, client_type="public").application
    issued = _token_for(UserFactory(tenant=acme, password=PASSWORD), app, "openid")
    header = jwt.get_unverified_header(issued["id_token"])
    assert header["alg"] == "RS256"
    kids = {key["kid"] for key in Client().get("/.well-known/jwks.json").json()["keys"]}
    assert header["kid"] in kids
    discovery = Client().get("/.well-known/openid-configuration").json()
    claims = jwt.decode(issued["id_token"], options={"verify_signature": False})
    assert claims["aud"] == app.client_id and claims["iss"] == discovery["issuer"]


def test_signing_in_as_someone_else_starts_a_clean_session(tenants):
    acme, _ = tenants
    first = UserFactory(tenant=acme, password=PASSWORD)
    browser = _browser_of(first)
    session = browser.session
    session["oauth_mfa_token"] = "first-users-pending-challenge"
    session.save()
    second = UserFactory(tenant=acme, password=PASSWORD)
    answer = browser.post("/oauth/login/", {"username": second.username, "password": PASSWORD})
    assert answer.status_code == 302
    assert browser.session["_auth_user_id"] == str(second.pk)
    assert "oauth_mfa_token" not in browser.session
