"""Forged, expired and misused JWTs are refused."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from accounts.models import LoginSession
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    ME_URL,
    assert_envelope,
    bearer,
    login,
    post_refresh,
)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _forgeries(tokens: dict) -> dict[str, str]:
    access = tokens["access_token"]
    header, payload, signature = access.split(".")
    claims = _claims(access)
    return {
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "wrong_key": jwt.encode(claims, "x" * 64, algorithm="HS256"),
        "tampered_payload": f"{header}.{_b64({**claims, 'user_id': '999999'})}.{signature}",
        "refresh_as_access": tokens["refresh_token"],
        "garbage": "not.a.jwt",
        "no_session_claim": jwt.encode(
            {k: v for k, v in claims.items() if k != "sid"},
            settings.JWT_SECRET_KEY,
            algorithm="HS256",
        ),
        "unknown_session": jwt.encode(
            {**claims, "sid": "00000000-0000-0000-0000-000000000000"},
            settings.JWT_SECRET_KEY,
            algorithm="HS256",
        ),
        "hs512_same_key": jwt.encode(claims, settings.JWT_SECRET_KEY, algorithm="HS512"),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "alg_none",
        "wrong_key",
        "tampered_payload",
        "refresh_as_access",
        "garbage",
        "no_session_claim",
        "unknown_session",
        "hs512_same_key",
    ],
)
def test_forged_access_tokens_are_401(api_client, logged_in, kind):
    _, tokens = logged_in

    response = api_client.get(ME_URL, **bearer(_forgeries(tokens)[kind]))

    assert_envelope(response, 401)


def test_expired_access_token_is_401(api_client, logged_in):
    _, tokens = logged_in

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = api_client.get(ME_URL, **bearer(tokens["access_token"]))

    assert_envelope(response, 401)


def test_expired_refresh_token_is_401(api_client, logged_in):
    _, tokens = logged_in

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = post_refresh(api_client, tokens["refresh_token"])

    assert_envelope(response, 401, "INVALID_TOKEN")


@pytest.mark.parametrize("kind", ["access", "forged_signature", "alg_none"])
def test_refresh_endpoint_refuses_non_refresh_tokens(api_client, logged_in, kind):
    _, tokens = logged_in
    claims = _claims(tokens["refresh_token"])
    token = {
        "access": tokens["access_token"],
        "forged_signature": jwt.encode(claims, "y" * 64, algorithm="HS256"),
        "alg_none": f"{_b64({'alg': 'none'})}.{_b64(claims)}.",
    }[kind]

    assert_envelope(post_refresh(api_client, token), 401, "INVALID_TOKEN")
    assert LoginSession.objects.get(pk=tokens["session_id"]).revoked_at is None


def test_missing_token_is_401_envelope(api_client, db):
    assert_envelope(api_client.get(ME_URL), 401, "NOT_AUTHENTICATED")


def test_user_with_other_user_id_claim_cannot_switch_account(api_client, user):
    other = UserFactory()
    tokens = login(api_client, user.email)
    claims = {**_claims(tokens["access_token"]), "user_id": str(other.pk)}
    forged = jwt.encode(claims, "z" * 64, algorithm="HS256")

    assert_envelope(api_client.get(ME_URL, **bearer(forged)), 401)
