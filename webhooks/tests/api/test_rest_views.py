"""/api/v1/webhooks: tenant admins manage their tenant's endpoints; nobody else's."""

import json

import pytest

from accounts.tests.helpers import assert_envelope
from events.tests.factories import OutboxEventFactory
from security.models import AuditAction
from security.tests.helpers import audit_row
from webhooks import secret_box, signing
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.tests.factories import WebhookDeliveryFactory, WebhookEndpointFactory

URL = "/api/v1/webhooks"
DELIVERIES = "/api/v1/webhooks/deliveries"
PUBLIC_URL = "https://93.184.216.34/hook"

pytestmark = pytest.mark.django_db


def _create(api_client, world, actor="tenant_admin", **body):
    payload = {"url": PUBLIC_URL, "event_types": ["credits.low", "account.locked"], **body}
    return api_client.post(URL, payload, format="json", **world.auth(actor))


def test_create_shows_the_secret_once_and_never_again(api_client, world):
    response = _create(api_client, world)

    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert body["tenant_id"] == world.tenant_a.pk
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert secret_box.secret_open(endpoint.secret_encrypted) == secret
    assert secret not in endpoint.secret_encrypted
    listed = api_client.get(URL, **world.auth("tenant_admin"))
    shown = api_client.get(f"{URL}/{endpoint.pk}", **world.auth("tenant_admin"))
    row = audit_row(action=AuditAction.WEBHOOK_CREATE, target_id=str(endpoint.pk))
    for text in (listed.content.decode(), shown.content.decode(), json.dumps(row.changes)):
        assert secret not in text
        assert endpoint.secret_encrypted not in text
    assert shown.json()["secret_hint"] == secret[:10]


def test_a_tenant_admin_cannot_place_an_endpoint_in_another_tenant(api_client, world):
    response = _create(api_client, world, tenant_id=world.tenant_b.pk)

    assert response.status_code == 201
    assert response.json()["tenant_id"] == world.tenant_a.pk


@pytest.mark.parametrize(
    ("actor", "code"),
    [
        ("user", "PERMISSION_DENIED"),
        ("moderator", "PERMISSION_DENIED"),
        ("guest", "ROLE_READ_ONLY"),
    ],
)
def test_members_without_manage_tenant_may_not_manage_webhooks(api_client, world, actor, code):
    assert_envelope(_create(api_client, world, actor), 403, code)
    WebhookEndpointFactory(tenant=world.tenant_a)
    assert api_client.get(URL, **world.auth(actor)).json()["results"] == []


def test_anonymous_is_refused(api_client, world):
    assert_envelope(api_client.get(URL), 401)


def test_another_tenants_endpoint_and_deliveries_are_not_found(api_client, world):
    theirs = WebhookEndpointFactory(tenant=world.tenant_b)
    delivery = WebhookDeliveryFactory(endpoint=theirs)
    auth = world.auth("tenant_admin")

    for response in (
        api_client.get(f"{URL}/{theirs.pk}", **auth),
        api_client.patch(f"{URL}/{theirs.pk}", {"is_active": False}, format="json", **auth),
        api_client.delete(f"{URL}/{theirs.pk}", **auth),
        api_client.post(f"{URL}/{theirs.pk}/rotate-secret", **auth),
        api_client.get(f"{DELIVERIES}/{delivery.pk}", **auth),
        api_client.post(f"{DELIVERIES}/{delivery.pk}/replay", **auth),
    ):
        assert_envelope(response, 404)
    assert api_client.get(URL, **auth).json()["results"] == []
    assert api_client.get(DELIVERIES, **auth).json()["results"] == []
    assert api_client.get(f"{DELIVERIES}?endpoint={theirs.pk}", **auth).json()["results"] == []
    theirs.refresh_from_db()
    assert theirs.is_active


def test_a_platform_admin_places_endpoints_in_existing_tenants_only(api_client, world):
    placed = _create(api_client, world, "platform_admin", tenant_id=world.tenant_b.pk)
    unknown = _create(api_client, world, "platform_admin", tenant_id=999999)

    assert placed.status_code == 201
    assert placed.json()["tenant_id"] == world.tenant_b.pk
    assert_envelope(unknown, 400, "VALIDATION_ERROR")


def test_a_platform_admin_sees_every_tenants_endpoints(api_client, world):
    ours = WebhookEndpointFactory(tenant=world.tenant_a)
    theirs = WebhookEndpointFactory(tenant=world.tenant_b)

    listed = api_client.get(URL, **world.auth("platform_admin")).json()["results"]

    assert {row["id"] for row in listed} >= {ours.pk, theirs.pk}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "ftp://example.com/x",
        "https://user:pw@93.184.216.34/hook",
    ],
)
def test_private_and_malformed_urls_are_refused(api_client, world, url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    assert_envelope(_create(api_client, world, url=url), 400, "WEBHOOK_URL_REFUSED")
    auth = world.auth("tenant_admin")
    endpoint = WebhookEndpointFactory(tenant=world.tenant_a, url=PUBLIC_URL)
    response = api_client.patch(f"{URL}/{endpoint.pk}", {"url": url}, format="json", **auth)
    assert_envelope(response, 400, "WEBHOOK_URL_REFUSED")


@pytest.mark.parametrize("event_types", [[], ["user.hacked"], "credits.low", [1]])
def test_unknown_event_types_are_refused(api_client, world, event_types):
    response = _create(api_client, world, event_types=event_types)
    assert_envelope(response, 400)


def test_rotating_the_secret_signs_later_deliveries_with_the_new_one(
    api_client, world, receiver, django_capture_on_commit_callbacks
):
    made = _create(api_client, world, url=receiver.url, event_types=["user.updated"]).json()
    auth = world.auth("tenant_admin")

    rotated = api_client.post(f"{URL}/{made['id']}/rotate-secret", **auth).json()
    from webhooks.services import deliveries_fan_out

    with django_capture_on_commit_callbacks(execute=True):
        deliveries_fan_out([OutboxEventFactory(tenant_id=world.tenant_a.pk)])

    (request,) = receiver.received
    header = request.headers[signing.SIGNATURE_HEADER]
    now = int(header.split(",")[0][2:])
    assert rotated["secret"] != made["secret"]
    assert signing.signature_valid(rotated["secret"], header, request.body, now=now)
    assert not signing.signature_valid(made["secret"], header, request.body, now=now)
    audit_row(action=AuditAction.WEBHOOK_SECRET_ROTATE, target_id=str(made["id"]))


def test_replay_sends_a_failed_delivery_again(
    api_client, world, receiver, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpointFactory(tenant=world.tenant_a, url=receiver.url)
    failed = WebhookDeliveryFactory(
        endpoint=endpoint, status=WebhookDelivery.Status.FAILED, attempts=8, next_attempt_at=None
    )
    auth = world.auth("tenant_admin")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"{DELIVERIES}/{failed.pk}/replay", **auth)

    assert response.status_code == 202, response.content
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("succeeded", 1)
    (request,) = receiver.received
    assert request.headers[signing.ID_HEADER] == str(failed.event_id)
    audit_row(action=AuditAction.WEBHOOK_DELIVERY_REPLAY, target_id=str(failed.pk))
    listed = api_client.get(f"{DELIVERIES}?status=succeeded", **auth).json()["results"]
    assert [row["id"] for row in listed] == [str(failed.pk)]


def test_update_and_delete(api_client, world):
    endpoint = WebhookEndpointFactory(tenant=world.tenant_a, url=PUBLIC_URL)
    auth = world.auth("tenant_admin")

    changed = api_client.patch(
        f"{URL}/{endpoint.pk}",
        {"event_types": ["credits.low"], "is_active": False},
        format="json",
        **auth,
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["event_types"] == ["credits.low"]
    assert changed.json()["is_active"] is False
    assert api_client.delete(f"{URL}/{endpoint.pk}", **auth).status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    audit_row(action=AuditAction.WEBHOOK_DELETE, target_id=str(endpoint.pk))


def test_the_event_catalogue_lists_every_type_with_its_schema(api_client, world):
    response = api_client.get("/api/v1/events/types", **world.auth("user"))

    types = {row["type"]: row["schema"] for row in response.json()["results"]}
    assert len(types) == 14
    assert types["credits.low"]["properties"]["data"]["required"] == [
        "conversation_limit",
        "tenant_id",
        "threshold",
        "user_id",
    ]


@pytest.mark.parametrize("value", ["²", "٣", "99999999999999999999999", "1e3", "-1"])
def test_an_odd_endpoint_filter_narrows_to_nothing_not_a_500(api_client, world, value):
    response = api_client.get(DELIVERIES, {"endpoint": value}, **world.auth("tenant_admin"))

    assert response.status_code == 200, response.content
    assert response.json()["results"] == []


def test_a_url_with_control_characters_is_refused_at_registration(api_client, world):
    assert_envelope(_create(api_client, world, url=PUBLIC_URL + "\x01"), 400, "WEBHOOK_URL_REFUSED")


def test_a_refused_name_does_not_tell_which_internal_address_it_has(api_client, world, settings):
    """The error would otherwise map the internal DNS for whoever registers URLs."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = _create(api_client, world, url="http://localhost/hook")

    body = assert_envelope(response, 400, "WEBHOOK_URL_REFUSED")
    assert "127.0.0.1" not in json.dumps(body)
    assert "::1" not in json.dumps(body)


@pytest.mark.parametrize("tenant_id", [99999999999999999999, -1])
def test_a_platform_admin_naming_an_impossible_tenant_gets_a_400(api_client, world, tenant_id):
    response = _create(api_client, world, actor="platform_admin", tenant_id=tenant_id)

    assert_envelope(response, 400)
