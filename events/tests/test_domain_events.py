"""Each domain event is written by the service that makes its change, with a `data`
that fits its documented schema."""

from datetime import date

import jsonschema
import pytest
from django.core import mail

from accounts.models import User
from accounts.services.lifecycle import account_erase
from accounts.services.users import (
    user_assign_role,
    user_change_status,
    user_register,
    user_update_profile,
)
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import LOGIN_URL, login
from accounts.tests.world import builtin
from apikeys.services import apikey_create, apikey_revoke
from credits.models import CreditAccount
from credits.services import account_for, consume, daily_reset
from events.catalog import DATA_SCHEMAS, EventType
from events.models import OutboxEvent
from tenants.services import tenant_create
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _events(event_type: str) -> list[OutboxEvent]:
    events = list(OutboxEvent.objects.filter(type=event_type).order_by("occurred_at"))
    for event in events:
        jsonschema.validate(event.data, DATA_SCHEMAS[event_type])
    return events


def _one(event_type: str) -> OutboxEvent:
    (event,) = _events(event_type)
    return event


@pytest.fixture
def admin():
    return UserFactory(is_staff=True, is_superuser=True, role=builtin("admin"))


def test_registration_records_user_registered_without_the_email():
    registration = user_register(
        username="newbie", email="newbie@example.com", password="Xy7!long-pass"
    )

    event = _one(EventType.USER_REGISTERED)
    assert event.data["user_id"] == registration.user.pk
    assert event.data["source"] == "self"
    assert "newbie@example.com" not in str(event.data)
    assert _one(EventType.API_KEY_CREATED).data["user_id"] == registration.user.pk


def test_profile_change_records_user_updated_with_the_fields():
    user = UserFactory()
    user_update_profile(user=user, actor=user, data={"first_name": "Ada"})
    assert _one(EventType.USER_UPDATED).data["fields"] == ["first_name"]


def test_suspension_records_user_suspended_and_the_keys_revoked(admin):
    tenant = TenantFactory()
    user = UserFactory(tenant=tenant)
    account_for(user)
    apikey_create(user=user, name="k", actor=user)

    user_change_status(actor=admin, user=user, status=User.Status.SUSPENDED, reason="abuse")

    event = _one(EventType.USER_SUSPENDED)
    assert event.tenant_id == tenant.pk
    assert (event.data["previous_status"], event.data["reason"]) == ("active", "abuse")
    assert _events(EventType.API_KEY_REVOKED)


def test_erasure_records_user_deleted(admin):
    user = UserFactory()
    account_erase(user=user, actor=admin, reason="request")
    event = _one(EventType.USER_DELETED)
    assert (event.data["user_id"], event.data["erased"]) == (user.pk, True)


def test_role_change_records_role_assigned(admin):
    user = UserFactory()
    user_assign_role(actor=admin, user=user, role_name="moderator")
    event = _one(EventType.ROLE_ASSIGNED)
    assert (event.data["role"], event.data["previous_role"]) == ("moderator", "user")


def test_key_revocation_records_api_key_revoked():
    user = UserFactory()
    issued = apikey_create(user=user, name="k", actor=user)
    apikey_revoke(key=issued.key, actor=user)
    assert _one(EventType.API_KEY_REVOKED).data["key_id"] == issued.key.pk


def test_tenant_creation_records_tenant_created(admin):
    tenant, first_admin = tenant_create(
        actor=admin,
        data={
            "name": "Initech",
            "admin_email": "boss@initech.test",
            "admin_username": "boss",
            "admin_password": "Xy7!long-pass",
        },
    )
    event = _one(EventType.TENANT_CREATED)
    assert (event.tenant_id, event.data["admin_user_id"]) == (tenant.pk, first_admin.pk)


def test_logins_record_login_succeeded_and_login_failed(api_client):
    tenant = TenantFactory()
    user = UserFactory(tenant=tenant)

    login(api_client, user.email)
    api_client.post(LOGIN_URL, {"email": user.email, "password": "wrong"}, format="json")
    api_client.post(LOGIN_URL, {"email": "nobody@example.com", "password": "x"}, format="json")

    assert _one(EventType.LOGIN_SUCCEEDED).data["user_id"] == user.pk
    known, unknown = _events(EventType.LOGIN_FAILED)
    assert (known.tenant_id, known.data["user_id"]) == (tenant.pk, user.pk)
    assert (unknown.tenant_id, unknown.data["user_id"]) == (None, None)
    assert "nobody@example.com" not in str(unknown.data)
    assert "wrong" not in str(known.data)


@pytest.mark.parametrize("wanted", [True, False])
def test_lockout_records_account_locked_once_and_emails_if_the_user_wants(
    api_client, settings, django_capture_on_commit_callbacks, wanted
):
    settings.AXES_FAILURE_LIMIT = 3
    user = UserFactory(preferences={"notifications": {"account_lockout": wanted}})

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            api_client.post(LOGIN_URL, {"email": user.email, "password": "wrong"}, format="json")

    event = _one(EventType.ACCOUNT_LOCKED)
    assert (event.data["user_id"], event.data["failures"]) == (user.pk, 3)
    sent = [m for m in mail.outbox if "locked" in m.subject]
    assert len(sent) == (1 if wanted else 0)
    if wanted:
        assert sent[0].to == [user.email]


def _account(user, limit: int) -> None:
    account_for(user)
    CreditAccount.objects.filter(user=user).update(
        conversation_limit=limit, conversation_reset=100, last_reset_on=date.today()
    )


def test_credits_low_fires_once_when_the_limit_crosses_the_tenant_threshold(
    settings, django_capture_on_commit_callbacks
):
    settings.AUTO_CREDIT_RESET_ENABLED = False
    settings.CREDITS_LOW_THRESHOLD = 2
    tenant = TenantFactory(settings={"credits_low_threshold": 5})
    user = UserFactory(tenant=tenant)
    _account(user, 7)

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(4):  # 7 → 3: reaches 5 once, on the take that leaves 5
            consume(user=user)

    event = _one(EventType.CREDITS_LOW)
    assert (event.data["conversation_limit"], event.data["threshold"]) == (5, 5)
    assert event.tenant_id == tenant.pk
    assert [m.to for m in mail.outbox if "running low" in m.subject] == [[user.email]]
    assert not _events(EventType.CREDITS_EXHAUSTED)


def test_credits_exhausted_fires_when_the_last_conversation_is_taken(settings):
    settings.AUTO_CREDIT_RESET_ENABLED = False
    settings.CREDITS_LOW_THRESHOLD = 0  # off
    user = UserFactory()
    _account(user, 2)

    consume(user=user)
    consume(user=user)

    assert _one(EventType.CREDITS_EXHAUSTED).data["conversation_limit"] == 0
    assert not _events(EventType.CREDITS_LOW)


def test_a_consume_that_crosses_nothing_costs_one_statement(settings, django_assert_num_queries):
    settings.AUTO_CREDIT_RESET_ENABLED = False
    settings.CREDITS_LOW_THRESHOLD = 5
    user = UserFactory(tenant=TenantFactory(settings={"credits_low_threshold": 3}))
    _account(user, 50)

    with django_assert_num_queries(1):
        consume(user=user)
    assert not OutboxEvent.objects.filter(type__startswith="credits.").exists()


def test_the_daily_reset_records_one_event_however_many_accounts_it_resets():
    for _ in range(3):
        account_for(UserFactory())
    CreditAccount.objects.update(last_reset_on=None)

    daily_reset(actor=None)
    daily_reset(actor=None)  # the same day again: nothing to reset, no event

    event = _one(EventType.CREDITS_RESET)
    assert event.tenant_id is None
    assert event.data["accounts_reset"] == 3


def test_user_events_carry_the_users_own_tenant():
    """Webhooks route on it: another tenant's endpoints never hear of this user."""
    tenant = TenantFactory()
    user = UserFactory(tenant=tenant)
    user_update_profile(user=user, actor=user, data={"first_name": "Bo"})
    assert _one(EventType.USER_UPDATED).tenant_id == tenant.pk


def test_client_info_is_not_in_login_events(api_client):
    user = UserFactory()
    login(api_client, user.email, HTTP_USER_AGENT="secret-agent")
    assert "secret-agent" not in str(_one(EventType.LOGIN_SUCCEEDED).data)
