"""The tenant admin page: a deactivation or a settings change there holds at once, like
one through the API."""

from accounts.preferences import PLATFORM_DEFAULTS
from accounts.tests.helpers import (
    ME_URL,
    assert_envelope,
    bearer,
    login,
)
from apikeys.services import apikey_regenerate_primary
from tenants.models import Tenant


def use_key(api_client, key: str):
    return api_client.post(
        "/v1/prompt/completions",
        {"level": "medium", "messages": [{"role": "user", "content": "Hello"}]},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def _post_change_form(client, tenant, **changed):
    """The tenant's change form as the admin site sends it, with `changed` fields (None:
    an unticked box, which the browser leaves out)."""
    form = {
        "name": tenant.name,
        "slug": tenant.slug,
        "description": "",
        "domain": "",
        "is_active": "on",
        "settings": "{}",
        **changed,
    }
    sent = {name: value for name, value in form.items() if value is not None}
    return client.post(f"/admin/tenants/tenant/{tenant.pk}/change/", sent)


def test_deactivating_a_tenant_in_the_admin_site_stops_its_keys_and_sessions_at_once(
    api_client, client, world
):
    key = apikey_regenerate_primary(user=world.member, actor=world.member).clear
    member_auth = bearer(login(api_client, world.member.email)["access_token"])
    assert use_key(api_client, key).status_code == 200  # the member is cached now
    tenant = world.tenant_a
    client.force_login(world.users["platform_admin"])

    response = _post_change_form(client, tenant, is_active=None)

    assert response.status_code == 302, response.content[:500]
    assert Tenant.objects.get(pk=tenant.pk).is_active is False
    assert_envelope(use_key(api_client, key), 401)
    assert_envelope(api_client.get(ME_URL, **member_auth), 401)


def test_the_admin_site_checks_a_tenants_default_preferences(client, world):
    tenant = world.tenant_a
    client.force_login(world.users["platform_admin"])

    response = _post_change_form(
        client, tenant, settings='{"default_preferences": {"theme": "neon"}}'
    )

    assert response.status_code == 200  # the form again, with its error
    errors = response.context["adminform"].form.errors["settings"]
    assert errors[0].startswith("settings.default_preferences.theme: ")
    tenant.refresh_from_db()
    assert "default_preferences" not in tenant.settings


def test_default_preferences_changed_in_the_admin_site_reach_signed_in_members_at_once(
    api_client, client, world
):
    member_auth = bearer(login(api_client, world.member.email)["access_token"])
    preferences_url = "/api/v1/users/me/preferences"
    assert api_client.get(preferences_url, **member_auth).json() == PLATFORM_DEFAULTS
    tenant = world.tenant_a
    client.force_login(world.users["platform_admin"])

    response = _post_change_form(
        client, tenant, settings='{"default_preferences": {"theme": "dark"}}'
    )

    assert response.status_code == 302, response.content[:500]
    assert api_client.get(preferences_url, **member_auth).json()["theme"] == "dark"
