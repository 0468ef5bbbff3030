"""Webhook services under concurrency: the per-tenant endpoint limit holds."""

import threading
import time

import pytest
from django.db import connection, transaction

from core.errors import Conflict
from webhooks.models import WebhookEndpoint
from webhooks.services import endpoint_create


@pytest.mark.django_db(transaction=True)
def test_two_registrations_at_once_cannot_pass_the_endpoint_limit(world, settings):
    """Each counted the tenant's endpoints before the other committed, so both fit."""
    settings.WEBHOOK_MAX_ENDPOINTS_PER_TENANT = 1
    admin = world.users["tenant_admin"]
    first_made, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def register(name: str, hold: bool) -> None:
        try:
            with transaction.atomic():
                endpoint_create(
                    actor=admin, url=f"https://93.184.216.34/{name}", event_types=["user.updated"]
                )
                if hold:
                    first_made.set()
                    release.wait(10)
            outcomes[name] = "made"
        except Conflict as error:
            outcomes[name] = error
        finally:
            first_made.set()
            connection.close()

    first = threading.Thread(target=register, args=("first", True))
    first.start()
    first_made.wait(10)
    second = threading.Thread(target=register, args=("second", False))
    second.start()
    time.sleep(0.5)
    release.set()
    first.join(10)
    second.join(10)

    assert outcomes["first"] == "made"
    assert isinstance(outcomes["second"], Conflict)
    assert WebhookEndpoint.objects.filter(tenant=world.tenant_a).count() == 1
