from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ValidationFailed
from security import selectors
from security.models import Severity
from security.tests.factories import (
    AuditLogFactory,
    IPAllowlistEntryFactory,
    IPBlockFactory,
    SecurityEventFactory,
)

pytestmark = pytest.mark.django_db


def test_security_events_filter_by_username_in_any_case_and_time():
    now = timezone.now()
    old = SecurityEventFactory(username="ada", occurred_at=now - timedelta(hours=2))
    SecurityEventFactory(username="bob", occurred_at=now - timedelta(hours=1))
    SecurityEventFactory(username="ada", severity=Severity.CRITICAL, occurred_at=now)

    found = selectors.security_events_list(
        actor=None, filters={"username": " ADA ", "until": now - timedelta(minutes=1)}
    )

    assert list(found) == [old]


def test_security_events_filter_refuses_an_unknown_severity():
    with pytest.raises(ValidationFailed):
        selectors.security_events_list(actor=None, filters={"severity": "loud"})


def test_audit_logs_filter_by_exact_fields_newest_first():
    first = AuditLogFactory(action="user.update", tenant_id=7)
    AuditLogFactory(action="user.update", tenant_id=8)
    second = AuditLogFactory(action="user.update", tenant_id=7)

    found = selectors.audit_logs_list(actor=None, filters={"tenant_id": 7, "action": "user.update"})

    assert list(found) == [second, first]


def test_ip_blocks_list_shows_active_blocks_unless_all_are_asked():
    active = IPBlockFactory()
    lifted = IPBlockFactory(lifted_at=timezone.now())

    assert list(selectors.ip_blocks_list(actor=None)) == [active]
    assert set(selectors.ip_blocks_list(actor=None, include_inactive=True)) == {active, lifted}


def test_allowlist_entries_list_is_every_entry():
    entries = {IPAllowlistEntryFactory(), IPAllowlistEntryFactory()}

    assert set(selectors.allowlist_entries_list(actor=None)) == entries
