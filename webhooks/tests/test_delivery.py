"""Deliveries to a receiver on loopback: signed, retried, recorded, never redirected."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from apikeys.services import apikey_create
from events.catalog import EventType
from events.tests.factories import OutboxEventFactory
from tenants.tests.factories import TenantFactory
from webhooks import delivery, signing, tasks
from webhooks.models import WebhookDelivery
from webhooks.services import deliveries_fan_out
from webhooks.tests.factories import TEST_SECRET, WebhookEndpointFactory


def _independent_signature_ok(secret: str, header: str, body: bytes) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(
        secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def _fan_out(django_capture_on_commit_callbacks, event):
    with django_capture_on_commit_callbacks(execute=True):
        return deliveries_fan_out([event])


@pytest.mark.django_db
def test_delivery_is_signed_so_an_independent_hmac_verifies_it(
    receiver, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["user.updated"])
    event = OutboxEventFactory(tenant_id=endpoint.tenant_id)

    _fan_out(django_capture_on_commit_callbacks, event)

    (request,) = receiver.received
    header = request.headers[signing.SIGNATURE_HEADER]
    assert _independent_signature_ok(TEST_SECRET, header, request.body)
    assert not _independent_signature_ok("whsec_another", header, request.body)
    assert json.loads(request.body)["id"] == str(event.pk)
    assert request.headers[signing.ID_HEADER] == str(event.pk)
    assert request.headers[signing.EVENT_HEADER] == "user.updated"
    assert TEST_SECRET not in json.dumps(request.headers)
    sent = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (sent.status, sent.attempts, sent.last_status_code) == ("succeeded", 1, 200)


@pytest.mark.django_db
def test_delivery_goes_only_to_endpoints_of_the_event_tenant_that_want_it(
    receiver, second_receiver, django_capture_on_commit_callbacks
):
    wanted = WebhookEndpointFactory(url=receiver.url, event_types=["user.updated"])
    WebhookEndpointFactory(url=second_receiver.url, event_types=["user.updated"])  # other tenant
    WebhookEndpointFactory(
        url=second_receiver.url, tenant=wanted.tenant, event_types=["api_key.created"]
    )
    event = OutboxEventFactory(tenant_id=wanted.tenant_id)

    _fan_out(django_capture_on_commit_callbacks, event)
    _fan_out(django_capture_on_commit_callbacks, event)  # the relay handing it over twice

    assert len(receiver.received) == 1
    assert second_receiver.received == []


@pytest.mark.django_db
def test_failed_delivery_is_retried_after_its_back_off_until_it_succeeds(
    receiver, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    receiver.statuses = [500]
    endpoint = WebhookEndpointFactory(url=receiver.url)
    event = OutboxEventFactory(tenant_id=endpoint.tenant_id)

    _fan_out(django_capture_on_commit_callbacks, event)
    failed = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (failed.status, failed.attempts, failed.last_status_code) == ("retrying", 1, 500)
    assert failed.last_error == "HTTP 500"
    wait = (failed.next_attempt_at - timezone.now()).total_seconds()
    assert 20 < wait <= 30

    assert delivery.deliveries_due_attempt() == 0  # not due yet
    WebhookDelivery.objects.filter(pk=failed.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert delivery.deliveries_due_attempt() == 1

    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("succeeded", 2, "")
    first, second = receiver.received
    assert first.headers[signing.ID_HEADER] == second.headers[signing.ID_HEADER]


@pytest.mark.django_db
def test_back_off_doubles_and_the_delivery_gives_up_after_the_last_attempt(
    receiver, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    assert [delivery.backoff_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]
    receiver.statuses = [503, 503]
    endpoint = WebhookEndpointFactory(url=receiver.url)
    _fan_out(django_capture_on_commit_callbacks, OutboxEventFactory(tenant_id=endpoint.tenant_id))
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))

    delivery.deliveries_due_attempt()

    given_up = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (given_up.status, given_up.attempts, given_up.next_attempt_at) == ("failed", 2, None)
    assert delivery.deliveries_due_attempt() == 0


@pytest.mark.django_db
def test_redirects_are_never_followed(
    receiver, second_receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [302]
    receiver.redirect_to = second_receiver.url
    endpoint = WebhookEndpointFactory(url=receiver.url)

    _fan_out(django_capture_on_commit_callbacks, OutboxEventFactory(tenant_id=endpoint.tenant_id))

    assert len(receiver.received) == 1
    assert second_receiver.received == []
    refused = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (refused.status, refused.last_status_code) == ("retrying", 302)
    assert refused.last_error == "redirect not followed"


@pytest.mark.django_db
def test_delivery_to_loopback_is_refused_without_the_setting(
    receiver, django_capture_on_commit_callbacks, settings
):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    _fan_out(django_capture_on_commit_callbacks, OutboxEventFactory(tenant_id=endpoint.tenant_id))

    assert receiver.received == []
    refused = WebhookDelivery.objects.get(endpoint=endpoint)
    assert refused.last_status_code is None
    assert "not public" in refused.last_error


@pytest.mark.django_db
def test_a_delivery_is_sent_by_one_worker_at_a_time(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    row = WebhookDelivery.objects.create(
        endpoint=endpoint,
        tenant=endpoint.tenant,
        event_id=OutboxEventFactory().pk,
        event_type=EventType.USER_UPDATED,
        payload={"id": "x"},
        next_attempt_at=timezone.now(),
    )
    assert delivery.delivery_attempt(row.pk) is not None
    assert delivery.delivery_attempt(row.pk) is None  # done: a second worker sends nothing
    assert len(receiver.received) == 1


@pytest.mark.django_db(transaction=True)
def test_committed_change_reaches_the_tenant_webhook_end_to_end(settings):
    """A domain change → outbox → relay (on commit) → delivery → a signed POST."""
    from webhooks.tests.receiver import running_receiver

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.EVENTS_BROKER_URL = ""
    tenant = TenantFactory()
    member = UserFactory(tenant=tenant)
    with running_receiver() as hook:
        WebhookEndpointFactory(url=hook.url, tenant=tenant, event_types=["api_key.created"])
        with transaction.atomic():
            apikey_create(user=member, name="ci", actor=member)
        (request,) = hook.received
    body = json.loads(request.body)
    assert body["type"] == "api_key.created"
    assert body["tenant_id"] == tenant.pk
    assert body["data"]["user_id"] == member.pk
    assert _independent_signature_ok(
        TEST_SECRET, request.headers[signing.SIGNATURE_HEADER], request.body
    )


@pytest.mark.django_db
def test_finished_deliveries_older_than_the_retention_are_pruned_and_the_rest_kept(settings):
    """Every event makes a row per listening endpoint; without pruning a tenant's
    endpoints grow the table (payload copies included) without bound."""
    settings.WEBHOOK_DELIVERY_RETENTION_DAYS = 30
    endpoint = WebhookEndpointFactory()
    old = timezone.now() - timedelta(days=31)
    rows = {}
    for name, status, updated_at in [
        ("old_succeeded", WebhookDelivery.Status.SUCCEEDED, old),
        ("old_failed", WebhookDelivery.Status.FAILED, old),
        ("old_retrying", WebhookDelivery.Status.RETRYING, old),
        ("recent_failed", WebhookDelivery.Status.FAILED, timezone.now()),
    ]:
        row = WebhookDelivery.objects.create(
            endpoint=endpoint,
            tenant=endpoint.tenant,
            event_id=OutboxEventFactory().pk,
            event_type=EventType.USER_UPDATED,
            payload={"id": name},
            status=status,
        )
        WebhookDelivery.objects.filter(pk=row.pk).update(updated_at=updated_at)
        rows[name] = row.pk

    assert tasks.prune_webhook_deliveries() == 2

    kept = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert kept == {rows["old_retrying"], rows["recent_failed"]}


def test_beat_prunes_deliveries_every_hour(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["prune-webhook-deliveries"]
    assert entry["task"] == "webhooks.tasks.prune_webhook_deliveries"
