"""/api/v1/oauth/applications: tenant admins manage their tenant's clients only."""

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope, bearer, login
from oauth.models import Application
from security.models import AuditLog
from tenants.models import Tenant

URL = "/api/v1/oauth/applications"
CLIENT = {
    "name": "Notebook",
    "client_type": "confidential",
    "authorization_grant_type": "authorization-code",
    "redirect_uris": ["https://notebook.example/callback"],
}


@pytest.fixture
def tenants(db):
    roles = {role.name: role for role in Role.objects.filter(tenant__isnull=True)}
    acme, globex = (Tenant.objects.create(name=n, slug=n.lower()) for n in ("Acme", "Globex"))
    return {
        "acme_admin": UserFactory(tenant=acme, role=roles["admin"]),
        "acme_moderator": UserFactory(tenant=acme, role=roles["moderator"]),
        "globex_admin": UserFactory(tenant=globex, role=roles["admin"]),
        "acme": acme,
        "globex": globex,
    }


def _auth(api_client, user) -> dict:
    return bearer(login(api_client, user.username)["access_token"])


def test_create_registers_for_the_admins_tenant_and_shows_the_secret_once(api_client, tenants):
    auth = _auth(api_client, tenants["acme_admin"])
    created = api_client.post(
        URL, {**CLIENT, "tenant_id": tenants["globex"].pk}, format="json", **auth
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    application = Application.objects.get(pk=body["id"])
    assert application.tenant == tenants["acme"]  # never the tenant the body names
    assert application.algorithm == "RS256"
    assert body["client_secret"] and application.client_secret != body["client_secret"]
    assert AuditLog.objects.filter(
        action="oauth_application.create", target_id=str(application.pk)
    ).exists()
    shown = api_client.get(f"{URL}/{application.pk}", **auth).json()
    assert "client_secret" not in shown and shown["redirect_uris"] == CLIENT["redirect_uris"]


def test_another_tenants_application_is_a_404(api_client, tenants):
    foreign = Application.objects.create(
        name="Theirs",
        tenant=tenants["globex"],
        client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="https://x.example/cb",
    )
    auth = _auth(api_client, tenants["acme_admin"])
    assert api_client.get(URL, **auth).json()["results"] == []
    for method in ("get", "patch", "delete"):
        response = getattr(api_client, method)(f"{URL}/{foreign.pk}", {}, format="json", **auth)
        assert_envelope(response, 404)
    assert_envelope(api_client.post(f"{URL}/{foreign.pk}/secret", **auth), 404)
    assert Application.objects.filter(pk=foreign.pk).exists()


def test_without_manage_tenant_nothing_is_registered(api_client, tenants):
    auth = _auth(api_client, tenants["acme_moderator"])
    assert_envelope(api_client.post(URL, CLIENT, format="json", **auth), 403, "PERMISSION_DENIED")
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"redirect_uris": ["https://notebook.example/cb#fragment"]}, "redirect_uris"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "redirect_uris"),
        ({"redirect_uris": []}, "redirect_uris"),
        ({"client_type": "public", "authorization_grant_type": "client-credentials"}, "public"),
    ],
)
def test_invalid_applications_are_refused(api_client, tenants, change, problem):
    auth = _auth(api_client, tenants["acme_admin"])
    response = api_client.post(URL, {**CLIENT, **change}, format="json", **auth)
    body = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert any(problem in error for error in body["errors"])
    assert not Application.objects.exists()


def test_secret_reset_ends_the_applications_tokens_and_public_clients_have_none(
    api_client, tenants
):
    auth = _auth(api_client, tenants["acme_admin"])
    created = api_client.post(URL, CLIENT, format="json", **auth).json()
    renewed = api_client.post(f"{URL}/{created['id']}/secret", **auth)
    assert renewed.status_code == 200
    assert renewed.json()["client_secret"] not in ("", None, created["client_secret"])
    public = api_client.post(URL, {**CLIENT, "client_type": "public"}, format="json", **auth)
    assert public.json()["client_secret"] is None
    assert_envelope(api_client.post(f"{URL}/{public.json()['id']}/secret", **auth), 400)


def test_update_and_delete_are_audited(api_client, tenants):
    auth = _auth(api_client, tenants["acme_admin"])
    created = api_client.post(URL, CLIENT, format="json", **auth).json()
    changed = api_client.patch(f"{URL}/{created['id']}", {"name": "Renamed"}, format="json", **auth)
    assert changed.json()["name"] == "Renamed"
    assert api_client.delete(f"{URL}/{created['id']}", **auth).status_code == 204
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"oauth_application.update", "oauth_application.delete"} <= actions
