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
