"""Social login against a fake identity provider that the test serves on loopback."""

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from conftest import _start_service
from oauth.tests.conftest import Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


class FakeProvider:
    """An OpenID Connect provider that signs in whoever `identity` names, checking
    the PKCE verifier and the client's secret as a real one would."""

    client_id = "our-service"
    client_secret = "fake-provider-secret"

    def __init__(self) -> None:
        self.identity: dict = {}
        self.challenges: dict[str, str] = {}
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/authorize":
                    assert query["code_challenge_method"] == "S256"
                    code = f"code-{len(provider.challenges)}"
                    provider.challenges[code] = query["code_challenge"]
                    answer = urlencode({"code": code, "state": query["state"]})
                    target = f"{query['redirect_uri']}?{answer}"
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                elif url.path == "/userinfo":
                    if self.headers.get("Authorization") != "Bearer fake-access-token":
                        self._json(401, {"error": "invalid_token"})
                    else:
                        self._json(200, provider.identity)
                else:
                    self._json(404, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                expected = base64.b64encode(
                    f"{provider.client_id}:{provider.client_secret}".encode()
                ).decode()
                challenge = provider.challenges.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                proof = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                    .rstrip(b"=")
                    .decode()
                )
                if self.headers.get("Authorization") != f"Basic {expected}" or proof != challenge:
                    self._json(400, {"error": "invalid_grant"})
                else:
                    self._json(200, {"access_token": "fake-access-token", "token_type": "Bearer"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def settings(self, **extra) -> dict:
        return {
            "fake": {
                "label": "Fake ID",
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "userinfo_endpoint": f"{self.url}/userinfo",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "trust_email": True,
                **extra,
            }
        }


@pytest.fixture(scope="module")
def fake_provider():
    provider = FakeProvider()
    provider.thread.start()
    yield provider
    provider.server.shutdown()


@pytest.fixture(scope="module")
def social_service(django_db_setup, tmp_path_factory, fake_provider):
    yield from _start_service(
        tmp_path_factory,
        {
            "FIREWALL_ENABLED": "false",
            "SOCIAL_LOGIN_PROVIDERS": json.dumps(fake_provider.settings()),
        },
    )


@pytest.fixture
def social_browser(social_service):
    with httpx.Client(base_url=social_service.url, timeout=30) as http:
        yield Browser(http)


def _sign_in_with_fake(browser: Browser, provider: FakeProvider) -> httpx.Response:
    start = browser.http.get("/oauth/social/fake/?next=/oauth/authorize/%3Fx%3D1")
    assert start.status_code == 302 and start.headers["location"].startswith(provider.url)
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302
    return browser.http.get(at_provider.headers["location"])


def test_sign_in_page_lists_the_configured_provider(social_browser):
    page = social_browser.http.get("/oauth/login/")
    assert "Fake ID" in page.text and "/oauth/social/fake/" in page.text


def test_a_verified_email_links_once_then_the_identity_signs_in(
    social_browser, fake_provider, user
):
    from oauth.models import SocialAccount
    from security.models import AuditLog

    fake_provider.identity = {"sub": "fake-42", "email": user.email, "email_verified": True}
    answer = _sign_in_with_fake(social_browser, fake_provider)
    assert answer.status_code == 302 and answer.headers["location"] == "/oauth/authorize/?x=1"
    assert SocialAccount.objects.get(provider="fake", subject="fake-42").user == user
    assert AuditLog.objects.filter(action="social_account.link", target_id=str(user.pk)).exists()
    # Later the identity alone names the account, whatever email the provider says.
    fake_provider.identity = {"sub": "fake-42", "email": "changed@example.org"}
    social_browser.http.cookies.clear()
    again = _sign_in_with_fake(social_browser, fake_provider)
    assert again.status_code == 302 and again.headers["location"] == "/oauth/authorize/?x=1"


def test_an_unverified_email_or_unknown_identity_is_refused(social_browser, fake_provider, user):
    from accounts.models import LoginSession

    fake_provider.identity = {"sub": "fake-7", "email": user.email, "email_verified": False}
    refused = _sign_in_with_fake(social_browser, fake_provider)
    assert refused.status_code == 401 and "No account here" in refused.text
    fake_provider.identity = {
        "sub": "fake-8",
        "email": "nobody@example.org",
        "email_verified": True,
    }
    assert _sign_in_with_fake(social_browser, fake_provider).status_code == 401
    assert not LoginSession.objects.filter(user=user).exists()


def test_a_callback_this_browser_did_not_start_is_refused(social_browser, fake_provider, user):
    fake_provider.identity = {"sub": "fake-9", "email": user.email, "email_verified": True}
    forged = social_browser.http.get("/oauth/social/fake/callback/?code=code-0&state=forged")
    assert forged.status_code == 400


def test_a_suspended_account_cannot_sign_in_socially(social_browser, fake_provider, user):
    from accounts.models import User

    User.objects.filter(pk=user.pk).update(status=User.Status.SUSPENDED)
    fake_provider.identity = {"sub": "fake-10", "email": user.email, "email_verified": True}
    assert _sign_in_with_fake(social_browser, fake_provider).status_code == 403


def test_mfa_still_asks_for_the_code_after_social_sign_in(social_browser, fake_provider, user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    fake_provider.identity = {"sub": "fake-11", "email": user.email, "email_verified": True}
    answer = _sign_in_with_fake(social_browser, fake_provider)
    assert answer.status_code == 302 and answer.headers["location"].startswith("/oauth/login/mfa/")
