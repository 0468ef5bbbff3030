"""The admin pages of webhooks: no secret shown or searchable; failed deliveries
replayed through the replay service; listed on the dashboard."""

from webhooks.models import WebhookDelivery
from webhooks.tests.factories import TEST_SECRET, WebhookDeliveryFactory, WebhookEndpointFactory

ENDPOINTS = "/admin/webhooks/webhookendpoint/"
DELIVERIES = "/admin/webhooks/webhookdelivery/"


def test_endpoint_pages_never_show_the_secret(admin_client):
    endpoint = WebhookEndpointFactory()

    pages = [
        admin_client.get(ENDPOINTS).content.decode(),
        admin_client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode(),
    ]

    for page in pages:
        assert TEST_SECRET not in page
        assert endpoint.secret_encrypted not in page
    assert endpoint.secret_hint in pages[1]


def test_the_sealed_secret_cannot_be_read_out_through_list_filters(admin_client):
    endpoint = WebhookEndpointFactory()
    WebhookDeliveryFactory(endpoint=endpoint)
    prefix = endpoint.secret_encrypted[:5]

    for url in (
        f"{ENDPOINTS}?secret_encrypted__startswith={prefix}",
        f"{DELIVERIES}?endpoint__secret_encrypted__startswith={prefix}",
    ):
        # Django refuses a lookup the admin does not allow (DisallowedModelAdminLookup).
        assert admin_client.get(url).status_code == 400


def test_replay_action_sends_failed_deliveries_again(
    admin_client, receiver, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    failed = WebhookDeliveryFactory(
        endpoint=endpoint, status=WebhookDelivery.Status.FAILED, attempts=8, next_attempt_at=None
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            DELIVERIES, {"action": "replay_deliveries", "_selected_action": [str(failed.pk)]}
        )

    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("succeeded", 1)
    assert len(receiver.received) == 1


def test_dashboard_lists_failed_deliveries(admin_client):
    failed = WebhookDeliveryFactory(
        status=WebhookDelivery.Status.FAILED,
        attempts=8,
        last_error="HTTP 500",
        event_type="credits.low",
    )
    WebhookDeliveryFactory(status=WebhookDelivery.Status.SUCCEEDED)

    html = admin_client.get("/admin/").content.decode()

    assert f"/admin/webhooks/webhookdelivery/{failed.pk}/change/" in html
    assert "credits.low" in html and "HTTP 500" in html
    assert TEST_SECRET not in html
