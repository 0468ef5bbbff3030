"""Consume, refund, the defaults of a new account, and the daily reset."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope, bearer, login
from accounts.tests.world import build_world
from apikeys.services import apikey_regenerate_primary
from core.errors import ValidationFailed
from credits.models import CreditAccount, CreditLedgerEntry, CreditResetRun
from credits.services import (
    CreditsExhausted,
    account_for,
    consume,
    credits_set,
    daily_reset,
    refund,
)
from credits.tests.helpers import COMPLETIONS, PROMPT, drained_accounts

ASYNC_ASK = "set_config('synchronous_commit', 'off', true)"


def consumed_at_once(user, *, attempts: int) -> list[bool]:
    """Whether each of `attempts` consumes racing on eight threads was served."""

    def take(_) -> bool:
        try:
            consume(user=user)
            return True
        except CreditsExhausted:
            return False
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(take, range(attempts)))


def test_registration_creates_the_account_from_documented_defaults(api_client, db):
    api_client.post(
        "/v1/users/register",
        {
            "username": "fresh",
            "name": "Fresh User",
            "email": "f@example.com",
            "password": "SecurePass123",
        },
        format="json",
    )

    account = CreditAccount.objects.get(user__username="fresh")
    assert (account.main_credits, account.main_reset) == (5, 5)
    assert (account.conversation_limit, account.conversation_reset) == (10, 10)


def test_tenant_default_credits_apply_to_its_members(db):
    world = build_world()
    world.tenant_a.settings = {
        "default_credits": {
            "credits": {"main": 50, "reset": 50},
            "limits": {"conversation_limit": 100, "reset": 100},
        }
    }
    world.tenant_a.save()
    member = UserFactory(tenant=world.tenant_a)

    assert account_for(member).limits() == {"conversation_limit": 100, "reset": 100}


def test_exhaustion_answers_the_documented_429(api_client, db):
    user = UserFactory()
    key = apikey_regenerate_primary(user=user, actor=user).clear
    account = account_for(user)
    CreditAccount.objects.filter(pk=account.pk).update(conversation_limit=1)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    first = api_client.post(COMPLETIONS, PROMPT, format="json", **auth)
    second = api_client.post(COMPLETIONS, PROMPT, format="json", **auth)

    assert first.status_code == 200
    body = assert_envelope(second, 429, "CREDITS_EXHAUSTED")
    assert body["message"] == "Insufficient conversation credits"
    assert body["limits"] == {"conversation_limit": 0, "reset": 10}


@pytest.mark.parametrize(
    ("now", "last_reset_on", "reset_hour", "retry_after"),
    [
        ("2026-12-01T10:00:00Z", date(2026, 12, 1), 0, 14 * 3600),  # tomorrow at 00:00
        ("2026-12-01T10:00:00Z", date(2026, 12, 1), 12, 26 * 3600),  # tomorrow at 12:00
        ("2026-12-01T10:00:00Z", date(2026, 11, 30), 12, 2 * 3600),  # today at 12:00
    ],
)
def test_exhaustion_says_when_the_daily_reset_gives_credits_back(
    api_client, db, settings, now, last_reset_on, reset_hour, retry_after
):
    settings.DAILY_USAGE_RESET_HOUR = reset_hour
    user = UserFactory()
    key = apikey_regenerate_primary(user=user, actor=user).clear
    CreditAccount.objects.filter(pk=account_for(user).pk).update(
        conversation_limit=0, last_reset_on=last_reset_on
    )

    with time_machine.travel(now, tick=False):
        response = api_client.post(
            COMPLETIONS, PROMPT, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"
        )

    assert_envelope(response, 429, "CREDITS_EXHAUSTED")
    assert response["Retry-After"] == str(retry_after)


def test_a_consume_after_the_reset_hour_takes_the_due_reset_itself(api_client, db, settings):
    """No beat process (the embedded `make run`) never leaves a user at 429 for good."""
    settings.DAILY_USAGE_RESET_HOUR = 12
    user = UserFactory()
    key = apikey_regenerate_primary(user=user, actor=user).clear
    CreditAccount.objects.filter(pk=account_for(user).pk).update(
        conversation_limit=0, main_credits=0, used_today=10, last_reset_on=date(2026, 11, 30)
    )

    with time_machine.travel("2026-12-01T13:00:00Z", tick=False):
        response = api_client.post(
            COMPLETIONS, PROMPT, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"
        )

    assert response.status_code == 200
    account = CreditAccount.objects.get(user=user)
    assert (account.conversation_limit, account.used_today) == (account.conversation_reset - 1, 1)
    assert account.main_credits == account.main_reset
    assert account.last_reset_on == date(2026, 12, 1)


def test_before_the_reset_hour_yesterdays_allowance_still_holds(db, settings):
    settings.DAILY_USAGE_RESET_HOUR = 12
    user = UserFactory()
    CreditAccount.objects.filter(pk=account_for(user).pk).update(
        conversation_limit=0, last_reset_on=date(2026, 11, 30)
    )

    with time_machine.travel("2026-12-01T11:59:00Z", tick=False), pytest.raises(CreditsExhausted):
        consume(user=user)

    account = CreditAccount.objects.get(user=user)
    assert (account.conversation_limit, account.last_reset_on) == (0, date(2026, 11, 30))


def test_without_daily_resets_a_consume_resets_nothing(db, settings):
    settings.AUTO_CREDIT_RESET_ENABLED = False
    user = UserFactory()
    CreditAccount.objects.filter(pk=account_for(user).pk).update(
        conversation_limit=0, last_reset_on=date.today() - timedelta(days=30)
    )

    with pytest.raises(CreditsExhausted):
        consume(user=user)

    assert CreditAccount.objects.get(user=user).conversation_limit == 0


@pytest.mark.django_db(transaction=True)
def test_racing_consumes_take_the_due_reset_exactly_once(settings):
    settings.DAILY_USAGE_RESET_HOUR = 0
    user = UserFactory()
    CreditAccount.objects.filter(pk=account_for(user).pk).update(
        conversation_limit=0, used_today=10, last_reset_on=timezone.now().date() - timedelta(days=1)
    )
    outcomes = consumed_at_once(user, attempts=40)

    account = CreditAccount.objects.get(user=user)
    assert outcomes.count(True) == account.conversation_reset == 10
    assert (account.conversation_limit, account.used_today) == (0, 10)
    assert account.last_reset_on == timezone.now().date()


def test_a_batch_larger_than_the_daily_amount_names_no_retry_time(db):
    user = UserFactory()
    CreditAccount.objects.filter(pk=account_for(user).pk).update(conversation_limit=3)

    with pytest.raises(CreditsExhausted) as refused:
        consume(user=user, amount=11)  # the daily amount is 10

    assert "Retry-After" not in refused.value.headers


def test_without_daily_resets_exhaustion_names_no_retry_time(api_client, db, settings):
    settings.AUTO_CREDIT_RESET_ENABLED = False
    user = UserFactory()
    key = apikey_regenerate_primary(user=user, actor=user).clear
    CreditAccount.objects.filter(pk=account_for(user).pk).update(conversation_limit=0)

    response = api_client.post(
        COMPLETIONS, PROMPT, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )

    assert_envelope(response, 429, "CREDITS_EXHAUSTED")
    assert "Retry-After" not in response


def test_consume_never_goes_below_zero(db):
    user = UserFactory()
    CreditAccount.objects.filter(pk=account_for(user).pk).update(conversation_limit=2)

    consume(user=user, amount=2)

    with pytest.raises(CreditsExhausted):
        consume(user=user, amount=1)
    assert CreditAccount.objects.get(user=user).conversation_limit == 0


def test_use_today_is_counted_not_derived_from_the_balance(api_client, db):
    world = build_world()
    key = apikey_regenerate_primary(user=world.member, actor=world.member).clear
    for _ in range(3):
        api_client.post(COMPLETIONS, PROMPT, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")
    auth = bearer(login(api_client, world.member.email)["access_token"])
    api_client.put(
        f"/api/v1/users/{world.member.pk}/credits",
        {"limits": {"conversation_limit": 50, "reset": 50}},
        format="json",
        **world.auth("tenant_admin"),
    )

    after_the_change = api_client.get("/api/v1/users/me/credits", **auth).json()
    CreditAccount.objects.update(last_reset_on=timezone.now().date() - timedelta(days=1))
    daily_reset(actor=None)
    after_the_reset = api_client.get("/api/v1/users/me/credits", **auth).json()

    assert (after_the_change["limits"]["conversation_limit"], after_the_change["used_today"]) == (
        50,
        3,
    )
    assert after_the_reset["used_today"] == 0


def test_a_refund_gives_back_what_was_taken_and_no_more(db):
    user = UserFactory()
    account_for(user)

    taken = consume(user=user, amount=2)
    assert refund(taken=taken, reason="backend failed", actor=None) is True

    account = CreditAccount.objects.get(user=user)
    assert (account.conversation_limit, account.used_today) == (10, 0)
    assert CreditLedgerEntry.objects.filter(kind="refund").count() == 1


def test_a_refund_after_the_daily_reset_does_not_lift_the_balance_past_it(db):
    user = UserFactory()
    account_for(user)
    yesterday = timezone.now() - timedelta(days=1)
    CreditAccount.objects.update(last_reset_on=yesterday.date())

    with time_machine.travel(yesterday, tick=False):
        taken = consume(user=user)  # from yesterday's allowance
    daily_reset(actor=None)  # today's gives the full amount back
    refunded = refund(taken=taken, reason="backend failed", actor=None)

    account = CreditAccount.objects.get(user=user)
    assert refunded is False
    assert (account.conversation_limit, account.conversation_reset) == (10, 10)
    assert not CreditLedgerEntry.objects.filter(kind="refund").exists()


def test_the_service_refuses_a_balance_the_column_cannot_hold(db):
    world = build_world()

    with pytest.raises(ValidationFailed):
        credits_set(
            user=world.member,
            actor=world.users["platform_admin"],
            credits=None,
            limits={"conversation_limit": 2**31},
        )


def test_daily_reset_is_set_based_and_runs_once_a_day(db, django_assert_max_num_queries):
    drained_accounts(25)

    # However many accounts: the run's row, one UPDATE, the run's count, the one
    # `credits.reset` event, and the savepoint around them.
    with django_assert_max_num_queries(9):
        first = daily_reset(actor=None)
    second = daily_reset(actor=None)

    assert (first, second) == (25, 0)
    assert set(CreditAccount.objects.values_list("conversation_limit", "main_credits")) == {(10, 5)}
    assert CreditResetRun.objects.get().accounts_reset == 25


def test_reset_after_a_half_done_run_finishes_the_rest(db):
    accounts = drained_accounts(4)
    today = date.today()
    CreditAccount.objects.filter(pk__in=[a.pk for a in accounts[:2]]).update(
        conversation_limit=10, last_reset_on=today
    )
    CreditAccount.objects.filter(pk=accounts[0].pk).update(conversation_limit=3)  # used since

    assert daily_reset(actor=None, day=today) == 2
    assert CreditAccount.objects.get(pk=accounts[0].pk).conversation_limit == 3


@pytest.mark.django_db(transaction=True)
def test_asynchronous_commits_still_never_overspend(settings):
    """The option changes when the disk is written, not which decrements succeed."""
    settings.CREDITS_ASYNC_COMMIT = True
    user = UserFactory()
    CreditAccount.objects.filter(pk=account_for(user).pk).update(conversation_limit=5)
    outcomes = consumed_at_once(user, attempts=40)

    assert outcomes.count(True) == 5
    assert CreditAccount.objects.get(user=user).conversation_limit == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("enabled", [True, False])
def test_only_a_decrement_that_commits_alone_skips_the_wait_for_the_disk(settings, enabled):
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting: run with DATABASE_URL (CI does)")
    settings.CREDITS_ASYNC_COMMIT = enabled
    user = UserFactory()
    account_for(user)

    with CaptureQueriesContext(connection) as alone:
        consume(user=user)
    with transaction.atomic(), CaptureQueriesContext(connection) as inside:
        consume(user=user)

    asks = [ASYNC_ASK in query["sql"] for query in alone.captured_queries]
    assert asks == [enabled]
    assert not any(ASYNC_ASK in query["sql"] for query in inside.captured_queries)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"  # the session keeps its durable default
    assert CreditAccount.objects.get(user=user).conversation_limit == 8
