"""The provider end to end: a live gunicorn, a browser signing in and consenting,
and Authlib as the relying party."""

import base64
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from django_otp.plugins.otp_totp.models import TOTPDevice
from joserfc import jwt
from joserfc.jwk import KeySet

from oauth.tests.conftest import OTHER_REDIRECT_URI, REDIRECT_URI, Browser, relying_party

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

AUTHORIZE = "/oauth/authorize/"
TOKEN = "/oauth/token/"


def _query(response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def _sign_in_and_authorize(browser, client, user, *, scope="openid profile email read:self"):
    """The person's part: sign in, consent; returns (callback URL, code verifier, nonce)."""
    verifier = generate_token(48)
    nonce = generate_token(16)
    url, _state = client.create_authorization_url(
        AUTHORIZE, code_verifier=verifier, scope=scope, nonce=nonce
    )
    to_login = browser.http.get(url)
    if to_login.status_code == 302:  # not signed in yet in this browser
        assert "/oauth/login/" in to_login.headers["location"]
        next_url = parse_qs(urlsplit(to_login.headers["location"]).query)["next"][0]
        signed_in = browser.sign_in(user.username, next_url=next_url)
        assert signed_in.status_code == 302, signed_in.text
    answer = browser.consent(url)
    callback = answer.headers["location"]
    return callback, verifier, nonce


def _exchange(client, callback, verifier):
    return client.fetch_token(TOKEN, authorization_response=callback, code_verifier=verifier)


def test_public_client_signs_in_with_pkce_and_reads_within_its_scopes(
    oauth_service, browser, world
):
    client = relying_party(oauth_service, world.public_app, None)
    callback, verifier, nonce = _sign_in_and_authorize(browser, client, world.member)
    assert callback.startswith(REDIRECT_URI)
    token = _exchange(client, callback, verifier)
    assert token["access_token"].startswith("oat-")
    assert set(token["scope"].split()) == {"openid", "profile", "email", "read:self"}

    # The ID token verifies against the published JWKS, for this client and nonce.
    discovery = client.get("/.well-known/openid-configuration").json()
    assert discovery["issuer"] == oauth_service.url
    assert "S256" in discovery["code_challenge_methods_supported"]
    jwks = KeySet.import_key_set(client.get(discovery["jwks_uri"]).json())
    id_token = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])
    assert id_token.header["alg"] == "RS256"
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": oauth_service.url},
        aud={"essential": True, "value": world.public_app.client_id},
        sub={"essential": True, "value": str(world.member.pk)},
        nonce={"essential": True, "value": nonce},
    ).validate(id_token.claims)

    me = client.get("/api/v1/users/me")
    assert me.status_code == 200, me.text
    assert me.json()["id"] == world.member.pk
    userinfo = client.get(discovery["userinfo_endpoint"]).json()
    assert userinfo["email"] == world.member.email and userinfo["sub"] == str(world.member.pk)

    # `write:self` is never carried by a token; the user list needs `read:users`.
    assert client.patch("/api/v1/users/me", json={"name": "X"}).status_code == 401
    assert client.get("/api/v1/users").status_code in (401, 403)
    # Nor does it open the session-only or metered API.
    assert client.get("/api/v1/api-keys").status_code == 401


def test_refresh_rotates_and_a_replayed_refresh_token_ends_the_family(
    oauth_service, browser, world
):
    client = relying_party(oauth_service, world.confidential_app, world.confidential_secret)
    callback, verifier, _ = _sign_in_and_authorize(browser, client, world.member)
    first = _exchange(client, callback, verifier)
    second = client.refresh_token(TOKEN, refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/users/me").status_code == 200
    with pytest.raises(OAuthError):
        client.refresh_token(TOKEN, refresh_token=first["refresh_token"])
    # Reuse of a rotated token revoked the whole family.
    with pytest.raises(OAuthError):
        client.refresh_token(TOKEN, refresh_token=second["refresh_token"])


def test_a_code_is_good_once(oauth_service, browser, world):
    client = relying_party(oauth_service, world.confidential_app, world.confidential_secret)
    callback, verifier, _ = _sign_in_and_authorize(browser, client, world.member)
    _exchange(client, callback, verifier)
    with pytest.raises(OAuthError) as replay:
        _exchange(client, callback, verifier)
    assert replay.value.error == "invalid_grant"


def test_pkce_is_required_of_public_clients_and_only_s256(oauth_service, browser, world):
    client = relying_party(oauth_service, world.public_app, None)
    browser.sign_in(world.member.username)
    base = (
        f"{AUTHORIZE}?response_type=code&client_id={world.public_app.client_id}"
        f"&redirect_uri={REDIRECT_URI}&scope=openid&state=s1"
    )
    without = browser.http.get(base)
    assert _query(without)["error"] == "invalid_request"
    plain = browser.http.get(f"{base}&code_challenge={'a' * 43}&code_challenge_method=plain")
    assert plain.status_code == 400 and "S256" in plain.text
    implicit_plain = browser.http.get(f"{base}&code_challenge={'a' * 43}")
    assert implicit_plain.status_code == 400
    # A wrong verifier at the token endpoint.
    callback, _verifier, _ = _sign_in_and_authorize(browser, client, world.member)
    with pytest.raises(OAuthError) as wrong:
        _exchange(client, callback, generate_token(48))
    assert wrong.value.error == "invalid_grant"
    # A confidential client that started with PKCE must finish with it (no downgrade).
    confidential = relying_party(oauth_service, world.confidential_app, world.confidential_secret)
    callback, _verifier, _ = _sign_in_and_authorize(browser, confidential, world.member)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    downgraded = confidential.post(
        TOKEN,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(world.confidential_app.client_id, world.confidential_secret),
    )
    assert downgraded.status_code == 400 and downgraded.json()["error"] == "invalid_request"


def test_wrong_redirect_uri_is_refused_without_redirecting(oauth_service, browser, world):
    client = relying_party(oauth_service, world.public_app, None)
    browser.sign_in(world.member.username)
    client.redirect_uri = OTHER_REDIRECT_URI
    url, _ = client.create_authorization_url(AUTHORIZE, code_verifier=generate_token(48))
    page = browser.http.get(url)
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "Mismatching redirect URI" in page.text or "redirect" in page.text.lower()


def test_another_tenants_application_and_its_tokens_reach_nothing_here(
    oauth_service, browser, world
):
    # A member of Acme cannot authorize Globex's application.
    foreign = relying_party(oauth_service, world.other_app, world.other_secret)
    browser.sign_in(world.member.username)
    url, _ = foreign.create_authorization_url(AUTHORIZE, code_verifier=generate_token(48))
    refused = browser.http.get(url)
    assert refused.status_code == 403 and "another organisation" in refused.text

    # A Globex member's token from Globex's app: Acme's users stay out of reach.
    outsider_browser = Browser(httpx.Client(base_url=oauth_service.url, timeout=30))
    callback, verifier, _ = _sign_in_and_authorize(
        outsider_browser, foreign, world.outsider, scope="openid read:self"
    )
    token = _exchange(foreign, callback, verifier)
    assert foreign.get(f"/api/v1/users/{world.member.pk}").status_code in (403, 404)
    # Acme's introspection does not tell about Globex's token.
    acme = relying_party(oauth_service, world.confidential_app, world.confidential_secret)
    answer = acme.introspect_token("/oauth/introspect/", token=token["access_token"]).json()
    assert answer == {"active": False}
    globex = relying_party(oauth_service, world.other_app, world.other_secret)
    answer = globex.introspect_token("/oauth/introspect/", token=token["access_token"]).json()
    assert answer["active"] is True and answer["sub"] == str(world.outsider.pk)
    outsider_browser.http.close()


def test_scopes_beyond_the_role_are_refused(oauth_service, browser, world):
    client = relying_party(oauth_service, world.public_app, None)
    browser.sign_in(world.member.username)
    url, _ = client.create_authorization_url(
        AUTHORIZE, code_verifier=generate_token(48), scope="openid read:users"
    )
    page = browser.consent_page(url)
    assert "your role does not hold this" in page.text
    answer = browser.consent(url)
    assert _query(answer)["error"] in ("invalid_scope", "access_denied")


def test_moderator_token_with_read_users_lists_only_its_tenant(oauth_service, browser, world):
    client = relying_party(oauth_service, world.confidential_app, world.confidential_secret)
    callback, verifier, _ = _sign_in_and_authorize(
        browser, client, world.moderator, scope="openid read:users"
    )
    _exchange(client, callback, verifier)
    listed = client.get("/api/v1/users")
    assert listed.status_code == 200, listed.text
    ids = {row["id"] for row in listed.json()["results"]}
    assert world.member.pk in ids and world.outsider.pk not in ids
    assert client.get(f"/api/v1/users/{world.outsider.pk}").status_code == 404


def test_revocation_and_introspection(oauth_service, browser, world):
    client = relying_party(oauth_service, world.confidential_app, world.confidential_secret)
    callback, verifier, _ = _sign_in_and_authorize(browser, client, world.member)
    token = _exchange(client, callback, verifier)
    seen = client.introspect_token("/oauth/introspect/", token=token["access_token"]).json()
    assert seen["active"] is True and seen["client_id"] == world.confidential_app.client_id
    assert client.revoke_token("/oauth/revoke/", token=token["access_token"]).status_code == 200
    assert client.get("/api/v1/users/me").status_code == 401
    seen = client.introspect_token("/oauth/introspect/", token=token["access_token"]).json()
    assert seen == {"active": False}
    with pytest.raises(OAuthError):
        client.refresh_token(TOKEN, refresh_token=token["refresh_token"])


def test_client_credentials_for_a_machine_client(oauth_service, browser, world):
    machine = relying_party(oauth_service, world.machine_app, world.machine_secret)
    token = machine.fetch_token(TOKEN, grant_type="client_credentials")
    assert token["scope"] == "introspection" and "refresh_token" not in token
    # It introspects its tenant's tokens, and is no user's token itself.
    assert machine.get("/api/v1/users/me").status_code == 401
    client = relying_party(oauth_service, world.confidential_app, world.confidential_secret)
    callback, verifier, _ = _sign_in_and_authorize(browser, client, world.member)
    user_token = _exchange(client, callback, verifier)
    seen = machine.post(
        "/oauth/introspect/",
        data={"token": user_token["access_token"]},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    ).json()
    assert seen["active"] is True
    # A scope beyond introspection, or a user's grant, is refused.
    with pytest.raises(OAuthError):
        machine.fetch_token(TOKEN, grant_type="client_credentials", scope="read:users")
    # A client-credentials client cannot impersonate another client.
    with pytest.raises(OAuthError) as wrong:
        relying_party(oauth_service, world.machine_app, world.other_machine_secret).fetch_token(
            TOKEN, grant_type="client_credentials"
        )
    assert wrong.value.error == "invalid_client"


def test_revoked_login_session_and_suspension_stop_refresh(oauth_service, browser, world):
    from accounts.models import LoginSession
    from accounts.services.sessions import sessions_revoke_for_user

    client = relying_party(oauth_service, world.confidential_app, world.confidential_secret)
    callback, verifier, _ = _sign_in_and_authorize(browser, client, world.member)
    token = _exchange(client, callback, verifier)
    assert LoginSession.objects.filter(user=world.member, surface="oauth").count() == 1
    sessions_revoke_for_user(user=world.member, reason="logout", actor=world.admin)
    assert client.get("/api/v1/users/me").status_code == 401
    with pytest.raises(OAuthError):
        client.refresh_token(TOKEN, refresh_token=token["refresh_token"])
    # The browser's sign-in ended with it: the next authorization asks again.
    url, _ = client.create_authorization_url(AUTHORIZE, code_verifier=generate_token(48))
    assert "/oauth/login/" in browser.http.get(url).headers["location"]


def test_suspension_stops_refresh(oauth_service, browser, world):
    from accounts.models import User

    client = relying_party(oauth_service, world.confidential_app, world.confidential_secret)
    callback, verifier, _ = _sign_in_and_authorize(browser, client, world.member)
    token = _exchange(client, callback, verifier)
    User.objects.filter(pk=world.member.pk).update(status=User.Status.SUSPENDED)
    with pytest.raises(OAuthError):
        client.refresh_token(TOKEN, refresh_token=token["refresh_token"])


def test_mfa_is_completed_before_consent(oauth_service, browser, world):
    device = TOTPDevice.objects.create(user=world.member, name="app", confirmed=True)
    totp = pyotp.TOTP(base64.b32encode(device.bin_key).decode())
    client = relying_party(oauth_service, world.public_app, None)
    url, _ = client.create_authorization_url(AUTHORIZE, code_verifier=generate_token(48))
    next_url = parse_qs(urlsplit(browser.http.get(url).headers["location"]).query)["next"][0]
    password_step = browser.sign_in(world.member.username, next_url=next_url)
    assert "/oauth/login/mfa/" in password_step.headers["location"]
    # Without the code there is no consent page: back to sign-in.
    assert "/oauth/login/" in browser.http.get(url).headers["location"]
    wrong = browser.enter_code("000000", next_url=next_url)
    assert wrong.status_code in (400, 401) and "location" not in wrong.headers
    # A wrong code throttles the device (django-otp), as on the API; lift it here.
    device.throttle_reset()
    done = browser.enter_code(totp.now(), next_url=next_url)
    assert done.status_code == 302 and done.headers["location"] == next_url
    assert browser.consent_page(url).status_code == 200


def test_open_redirect_through_sign_in_is_refused(oauth_service, browser, world):
    answer = browser.sign_in(world.member.username, next_url="https://evil.example/")
    assert answer.status_code == 302 and answer.headers["location"] == AUTHORIZE
    answer = browser.sign_in(world.member.username, next_url="//evil.example/oauth/authorize/")
    assert answer.headers["location"] == AUTHORIZE


def test_wrong_password_counts_toward_lockout_like_the_api_login(oauth_service, browser, world):
    from accounts.models import LoginSession

    for _ in range(2):
        wrong = browser.sign_in(world.member.username, password="wrong-password")
        assert wrong.status_code == 401 and "Invalid credentials" in wrong.text
    assert not LoginSession.objects.filter(user=world.member).exists()


def test_a_code_is_bound_to_its_client_and_refresh_cannot_widen_scopes(
    oauth_service, browser, world
):
    public = relying_party(oauth_service, world.public_app, None)
    callback, verifier, _ = _sign_in_and_authorize(browser, public, world.member)
    # Another client of the same tenant presents the public client's code.
    impostor = relying_party(oauth_service, world.confidential_app, world.confidential_secret)
    with pytest.raises(OAuthError) as stolen:
        _exchange(impostor, callback, verifier)
    assert stolen.value.error == "invalid_grant"

    confidential = impostor
    callback, verifier, _ = _sign_in_and_authorize(
        browser, confidential, world.member, scope="openid read:self"
    )
    token = _exchange(confidential, callback, verifier)
    with pytest.raises(OAuthError) as wider:
        confidential.refresh_token(
            TOKEN, refresh_token=token["refresh_token"], scope="openid read:self write:models"
        )
    assert wider.value.error == "invalid_scope"
