"""The membership rules of `tenants.selectors`: who may self-register into a tenant."""

from accounts.models import User
from accounts.tests.helpers import (
    LOGIN_URL,
    REGISTER_URL,
    assert_envelope,
    login,
    token_in,
)
from apikeys.services import apikey_regenerate_primary
from security.models import AuditAction
from security.tests.helpers import audit_row


def _register(api_client, tenant, email="joiner@example.com", url=REGISTER_URL):
    body = {
        "email": email,
        "username": "joiner",
        "password": "SecurePass123",
        "name": "Joiner",
        "tenant_id": tenant.pk,
    }
    return api_client.post(url, body, format="json")


def test_registration_joins_an_open_tenant_with_its_default_role(api_client, world):
    world.tenant_a.settings = {"default_role": "guest", "self_registration": True}
    world.tenant_a.save()

    response = _register(api_client, world.tenant_a)

    assert response.status_code == 201
    assert (response.json()["tenant_id"], response.json()["role"]) == (world.tenant_a.pk, "guest")


def test_a_tenant_takes_no_self_registration_unless_it_opens_it(api_client, world):
    assert world.tenant_a.settings.get("self_registration") is None

    response = _register(api_client, world.tenant_a)

    assert_envelope(response, 403, "TENANT_REGISTRATION_CLOSED")
    assert not User.objects.filter(username="joiner").exists()


def test_the_product_registration_never_joins_a_tenant(api_client, world):
    world.tenant_a.settings = {"self_registration": True}
    world.tenant_a.save()

    response = _register(api_client, world.tenant_a, url="/v1/users/register")

    assert response.status_code == 201
    assert User.objects.get(username="joiner").tenant_id is None


def test_registration_into_a_closed_tenant_is_403(api_client, world):
    world.tenant_a.settings = {"self_registration": False}
    world.tenant_a.save()

    assert_envelope(_register(api_client, world.tenant_a), 403, "TENANT_REGISTRATION_CLOSED")


def _open_to_domain(tenant) -> None:
    tenant.settings = {"self_registration": True, "allowed_email_domains": ["acme.example"]}
    tenant.save()


def test_registration_checks_allowed_email_domains(api_client, world, settings):
    settings.EMAIL_VERIFICATION_ENABLED = True
    _open_to_domain(world.tenant_a)

    refused = _register(api_client, world.tenant_a, "joiner@gmail.example")
    accepted = _register(api_client, world.tenant_a, "joiner@acme.example")

    assert_envelope(refused, 403, "TENANT_REGISTRATION_CLOSED")
    assert accepted.status_code == 201


def test_a_domain_member_is_pending_until_the_address_is_verified(
    api_client, world, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_VERIFICATION_ENABLED = True
    _open_to_domain(world.tenant_a)

    with django_capture_on_commit_callbacks(execute=True):
        registered = _register(api_client, world.tenant_a, "ceo@acme.example")
    joined = User.objects.get(username="joiner")
    key = {"HTTP_X_API_KEY": apikey_regenerate_primary(user=joined, actor=joined).clear}
    before = api_client.post(
        LOGIN_URL, {"email": "ceo@acme.example", "password": "SecurePass123"}, format="json"
    )
    key_before = api_client.get("/api/v1/users/me/credits", **key)
    verified = api_client.post(
        "/api/v1/auth/verify-email", {"token": token_in(mailoutbox[0])}, format="json"
    )

    assert registered.status_code == 201
    assert_envelope(before, 403, "ACCOUNT_PENDING")
    assert key_before.status_code == 401
    assert verified.status_code == 200
    joined.refresh_from_db()
    assert (joined.status, joined.tenant_id) == ("active", world.tenant_a.pk)
    assert login(api_client, "joiner")["access_token"]
    assert api_client.get("/api/v1/users/me/credits", **key).status_code == 200
    audit_row(action=AuditAction.USER_STATUS_CHANGE, target_id=str(joined.pk))


def test_a_domain_tenant_takes_no_registration_that_cannot_be_verified(api_client, world):
    _open_to_domain(world.tenant_a)

    response = _register(api_client, world.tenant_a, "ceo@acme.example")

    assert_envelope(response, 403, "EMAIL_VERIFICATION_REQUIRED")
    assert not User.objects.filter(username="joiner").exists()


def test_login_with_another_tenant_id_is_401(api_client, world):
    response = api_client.post(
        LOGIN_URL,
        {"email": world.member.email, "password": "SecurePass123", "tenant_id": world.tenant_b.pk},
        format="json",
    )

    assert_envelope(response, 401, "INVALID_CREDENTIALS")
