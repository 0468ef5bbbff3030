from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope
from security.lockout import account_locked_until
from security.models import SecurityEvent
from security.tests.helpers import attempt, audit_row, audit_rows, platform_admin_auth

RIGHT, WRONG = "SecurePass123", "WrongPass999"


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", email="ada@example.com")


def _fail(api_client, identifier: str, times: int, **extra) -> list:
    return [attempt(api_client, identifier, WRONG, **extra) for _ in range(times)]


def test_four_failures_do_not_lock(api_client, ada):
    responses = _fail(api_client, "ada", 4)

    assert [r.status_code for r in responses] == [401] * 4
    assert attempt(api_client, "ada", RIGHT).status_code == 200


def test_fifth_failure_locks_and_answers_423(api_client, ada):
    responses = _fail(api_client, "ada", 5)

    assert [r.status_code for r in responses[:4]] == [401] * 4
    body = assert_envelope(responses[4], 423, "ACCOUNT_LOCKED")
    assert body["locked_until"].endswith("Z")
    assert int(responses[4]["Retry-After"]) > 3500


def test_right_password_after_lockout_gets_423_with_unlock_time(api_client, ada):
    _fail(api_client, "ada", 5)

    response = attempt(api_client, "ada", RIGHT)

    body = assert_envelope(response, 423, "ACCOUNT_LOCKED")
    assert "locked until" in body["message"]
    assert 3500 < body["retry_after_seconds"] <= 3600


def test_attempts_during_lockout_do_not_extend_it(api_client, ada):
    first = assert_envelope(_fail(api_client, "ada", 5)[-1], 423)["locked_until"]

    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        later = assert_envelope(attempt(api_client, "ada", WRONG), 423)["locked_until"]

    assert later == first


def test_success_before_the_limit_resets_the_count(api_client, ada):
    _fail(api_client, "ada", 4)
    assert attempt(api_client, "ada", RIGHT).status_code == 200

    # From another address: the first one's failures still count towards an IP block.
    responses = _fail(api_client, "ada", 4, REMOTE_ADDR="203.0.113.50")

    assert [r.status_code for r in responses] == [401] * 4
    assert attempt(api_client, "ada", RIGHT, REMOTE_ADDR="203.0.113.50").status_code == 200


def test_a_success_clears_its_accounts_failures_only(api_client, ada):
    bob = UserFactory(username="bob")
    _fail(api_client, "ada", 2)
    _fail(api_client, "bob", 1)

    assert attempt(api_client, "ada", RIGHT).status_code == 200

    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [f"USER:{bob.pk}"]


def test_expired_failures_of_other_accounts_go_with_the_next_failure(api_client, ada):
    """A login with no failures of its own writes nothing; the expired rows it no
    longer clears are cleared by the next failure, before it counts."""
    bob = UserFactory(username="bob")
    _fail(api_client, "bob", 2)

    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert attempt(api_client, "ada", RIGHT).status_code == 200
        assert AccessAttempt.objects.filter(username=f"USER:{bob.pk}").exists()

        attempt(api_client, "ada", WRONG)

    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [f"USER:{ada.pk}"]


def test_failures_older_than_the_cool_off_count_nowhere(api_client, ada):
    """Axes counts the failures of the last cool-off only, and so does everything that
    says whether an account is locked: rows left from before change nothing."""
    start = timezone.now()
    cool_off = settings.AXES_COOLOFF_TIME
    with time_machine.travel(start, tick=False):
        _fail(api_client, "ada", 4, HTTP_USER_AGENT="a", REMOTE_ADDR="203.0.113.1")
    with time_machine.travel(start + cool_off - timedelta(minutes=1), tick=False):
        last = attempt(api_client, "ada", WRONG, HTTP_USER_AGENT="b", REMOTE_ADDR="203.0.113.2")
        assert_envelope(last, 423)

    with time_machine.travel(start + cool_off + timedelta(minutes=1), tick=False):
        auth = platform_admin_auth(api_client)
        listed = api_client.get("/v1/admin-panel/lockouts", **auth).json()["results"]
        assert AccessAttempt.objects.count() == 2  # the first row has expired, not gone
        assert account_locked_until("ada") is None
        assert listed == []
        assert attempt(api_client, "ada", RIGHT, REMOTE_ADDR="203.0.113.3").status_code == 200


def test_failures_count_per_identifier_in_any_case(api_client, ada):
    for identifier in ("ada", "ADA", "Ada", " ada", "aDa"):
        attempt(api_client, identifier, WRONG)

    assert_envelope(attempt(api_client, "ada", RIGHT), 423)


def test_unknown_account_locks_the_same_way(api_client, db):
    responses = _fail(api_client, "ghost@example.com", 5)

    assert [r.status_code for r in responses[:4]] == [401] * 4
    assert_envelope(responses[4], 423, "ACCOUNT_LOCKED")


def test_both_login_apis_share_the_lockout(api_client, ada):
    _fail(api_client, "ada", 3)
    _fail(api_client, "ada", 2, url="/v1/users/login")

    assert_envelope(attempt(api_client, "ada", RIGHT, url="/v1/users/login"), 423)
    assert_envelope(attempt(api_client, "ada", RIGHT), 423)


def test_lockout_expires_after_its_duration(api_client, ada):
    _fail(api_client, "ada", 5)

    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        response = attempt(api_client, "ada", RIGHT)

    assert response.status_code == 200


def test_lockout_duration_follows_setting(api_client, ada, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)
    _fail(api_client, "ada", 5)

    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert attempt(api_client, "ada", RIGHT).status_code == 423
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert attempt(api_client, "ada", RIGHT).status_code == 200


def test_locked_account_gets_423_even_when_its_ip_is_blocked_too(api_client, ada):
    _fail(api_client, "ada", 5)  # five failures from one IP also block that IP

    assert_envelope(attempt(api_client, "ada", RIGHT), 423, "ACCOUNT_LOCKED")
    assert_envelope(attempt(api_client, "someone-else", RIGHT), 403, "IP_BLOCKED")


def test_staff_unlock_through_api_is_audited(api_client, ada):
    _fail(api_client, "ada", 5, REMOTE_ADDR="198.51.100.7")
    auth = platform_admin_auth(api_client)

    listed = api_client.get("/v1/admin-panel/lockouts", **auth).json()["results"]
    response = api_client.delete("/v1/admin-panel/lockouts/ADA", **auth)

    assert [row["identifier"] for row in listed] == ["ada"]
    assert response.status_code == 200
    assert attempt(api_client, "ada", RIGHT, REMOTE_ADDR="198.51.100.8").status_code == 200
    [entry] = audit_rows(action="account.unlock")
    assert (entry.target_type, entry.target_id, entry.actor_label) == (
        "accounts.user",
        str(ada.pk),
        "platformadmin",
    )


def test_failures_count_per_account_whichever_name_is_typed(api_client, ada):
    _fail(api_client, "ada", 3)
    responses = _fail(api_client, "Ada@Example.com", 2)

    assert_envelope(responses[-1], 423, "ACCOUNT_LOCKED")
    assert_envelope(attempt(api_client, "ada@example.com", RIGHT), 423, "ACCOUNT_LOCKED")
    assert_envelope(attempt(api_client, "ADA", RIGHT), 423, "ACCOUNT_LOCKED")


def test_a_login_by_username_clears_the_failures_typed_as_email(api_client, ada):
    _fail(api_client, "ada@example.com", 4)
    assert attempt(api_client, "ada", RIGHT).status_code == 200

    responses = _fail(api_client, "ada@example.com", 4, REMOTE_ADDR="203.0.113.51")

    assert [r.status_code for r in responses] == [401] * 4


def test_unknown_identifiers_lock_apart_from_accounts(api_client, ada):
    _fail(api_client, "ghost", 5)

    assert attempt(api_client, "ada", RIGHT, REMOTE_ADDR="203.0.113.52").status_code == 200
    assert_envelope(attempt(api_client, "GHOST", WRONG, REMOTE_ADDR="203.0.113.53"), 423)


def test_typing_an_accounts_lockout_key_does_not_lock_it(api_client, ada):
    for identifier in (f"user:{ada.pk}", f"USER:{ada.pk}"):
        _fail(api_client, identifier, 5, REMOTE_ADDR="203.0.113.60")

    assert attempt(api_client, "ada", RIGHT, REMOTE_ADDR="203.0.113.61").status_code == 200


def test_staff_unlock_by_the_listed_key(api_client, ada):
    _fail(api_client, "ada", 5, REMOTE_ADDR="198.51.100.30")
    auth = platform_admin_auth(api_client)
    key = api_client.get("/v1/admin-panel/lockouts", **auth).json()["results"][0]["key"]

    response = api_client.delete(f"/v1/admin-panel/lockouts/{key}", **auth)

    assert key == f"USER:{ada.pk}"
    assert response.json()["cleared"] == 1
    assert attempt(api_client, "ada", RIGHT, REMOTE_ADDR="198.51.100.31").status_code == 200


def test_lockout_list_names_the_account_and_unlocks_by_email(api_client, ada):
    _fail(api_client, "ada", 2, REMOTE_ADDR="198.51.100.20")
    _fail(api_client, "ada@example.com", 3, REMOTE_ADDR="198.51.100.21")
    _fail(api_client, "ghost", 5, REMOTE_ADDR="198.51.100.22")
    auth = platform_admin_auth(api_client)

    listed = api_client.get("/v1/admin-panel/lockouts", **auth).json()["results"]
    unlocked = api_client.delete("/v1/admin-panel/lockouts/ADA@example.com", **auth)

    rows = {row["identifier"]: row for row in listed}
    assert set(rows) == {"ada", "ghost"}
    assert (rows["ada"]["user_id"], rows["ada"]["email"]) == (ada.pk, "ada@example.com")
    assert rows["ada"]["failures"] == 5
    assert (rows["ghost"]["user_id"], rows["ghost"]["key"]) == (None, "ghost")
    assert unlocked.json()["cleared"] == 2  # one record per address
    assert attempt(api_client, "ada", RIGHT, REMOTE_ADDR="198.51.100.23").status_code == 200
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ACCOUNT_LOCKED, user_id=ada.pk)
    assert event.username == "ada"


def test_lockout_admin_page_names_the_account_and_finds_it_by_email(client, api_client, ada):
    from accounts.models import User

    _fail(api_client, "ada", 5)
    admin = User.objects.create_superuser(
        username="boss", email="b@example.com", password="BossPass12345"
    )
    client.force_login(admin)

    page = client.get(
        "/admin/axes/accessattempt/", {"q": "ADA@example.com"}, REMOTE_ADDR="10.1.1.1"
    )

    assert page.status_code == 200
    assert "ada &lt;ada@example.com&gt;" in page.content.decode()


def test_staff_unlock_through_admin_action(client, api_client, ada):
    from axes.models import AccessAttempt

    from accounts.models import User

    _fail(api_client, "ada", 5)
    admin = User.objects.create_superuser(
        username="boss", email="b@example.com", password="BossPass12345"
    )
    client.force_login(admin)

    client.post(
        "/admin/axes/accessattempt/",
        {
            "action": "unlock_accounts",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
        },
        REMOTE_ADDR="10.1.1.1",
    )

    assert not AccessAttempt.objects.exists()
    assert audit_row(action="account.unlock", actor_label="boss")


def test_django_admin_login_locks_with_423(client, db):
    from accounts.models import User

    User.objects.create_superuser(username="boss", email="b@example.com", password="BossPass12345")
    for number in range(5):  # from several addresses, so no IP block interferes
        client.post(
            "/admin/login/",
            {"username": "boss", "password": "nope"},
            REMOTE_ADDR=f"10.0.0.{number}",
        )

    response = client.post(
        "/admin/login/", {"username": "boss", "password": "BossPass12345"}, REMOTE_ADDR="10.0.1.1"
    )

    assert response.status_code == 423


def test_lockout_writes_security_events(api_client, ada):
    _fail(api_client, "ada", 5)

    kinds = list(SecurityEvent.objects.values_list("kind", flat=True))
    assert kinds.count(SecurityEvent.Kind.LOGIN_FAILED) == 5
    assert SecurityEvent.objects.get(kind=SecurityEvent.Kind.ACCOUNT_LOCKED).severity == "critical"


def test_lockout_api_needs_platform_admin(api_client, ada):
    from accounts.tests.helpers import bearer, login

    tokens = login(api_client, "ada", RIGHT)

    response = api_client.delete("/v1/admin-panel/lockouts/ada", **bearer(tokens["access_token"]))

    assert_envelope(response, 403)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PERMISSION_DENIED).exists()
    assert_envelope(api_client.get("/v1/admin-panel/lockouts"), 401)
