"""Every SDK call end to end against the service under gunicorn."""

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from ai_marketplace.users import (
    APIKey,
    AuthenticationError,
    Conflict,
    Credits,
    CreditsExhausted,
    IssuedAPIKey,
    KeyNotAccepted,
    Locked,
    MfaRequired,
    NotFound,
    PermissionDenied,
    RateLimited,
    Role,
    ScopeMissing,
    UnsupportedOperation,
    User,
    UserClient,
    ValidationError,
)

from .conftest import (
    DEVELOPER_PERMISSIONS,
    FAILED_LOGINS_BEFORE_LOCKOUT,
    LOGINS_PER_ACCOUNT,
    PASSWORD,
)

pytestmark = pytest.mark.live

HELLO = [{"role": "user", "content": "Hello"}]


def admin_client(service, organisation) -> UserClient:
    return UserClient.login(base_url=service.url, email="admin@acme.example", password=PASSWORD)


def developer(service, organisation, email="dev@acme.example") -> tuple[UserClient, User]:
    """A tenant admin makes the developer role and a developer; the developer logs in."""
    with admin_client(service, organisation) as admin:
        if "developer" not in {role.name for role in admin.roles()}:
            admin.create_role(name="developer", permissions=DEVELOPER_PERMISSIONS)
        admin.create_user(email=email, password=PASSWORD, role="developer")
    client = UserClient.login(base_url=service.url, email=email, password=PASSWORD)
    return client, client.me()


def flushed_messages(client: UserClient, expected: int) -> list:
    """The conversation log once the relay's queue has reached the database."""
    from messagelog import services

    deadline = time.monotonic() + 15
    while True:
        if services.message_queue() is not None:
            services.flush(actor=None)
        found = list(client.messages())
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


# ----- login, users and roles --------------------------------------------------------


def test_login_holds_the_session_and_me_is_the_account(sdk_service, organisation):
    with admin_client(sdk_service, organisation) as client:
        me = client.me()

        assert client.access_token and client.refresh_token and client.session_id
        assert isinstance(me, User)
        assert (me.id, me.email, me.role, me.tenant_id) == (
            organisation.admin.pk,
            "admin@acme.example",
            "admin",
            organisation.tenant.pk,
        )


def test_an_account_with_mfa_logs_in_with_its_code(sdk_service, organisation):
    with admin_client(sdk_service, organisation) as session, sdk_service.client() as raw:
        headers = {"Authorization": f"Bearer {session.access_token}"}
        enrolment = raw.post(
            "/api/v1/auth/mfa/totp/setup", json={"password": PASSWORD}, headers=headers
        ).json()
        secret = parse_qs(urlsplit(enrolment["otpauth_uri"]).query)["secret"][0]
        confirmed = raw.post(
            "/api/v1/auth/mfa/totp/confirm",
            json={"code": pyotp.TOTP(secret).now()},
            headers=headers,
        ).json()
    with pytest.raises(MfaRequired) as challenged:
        UserClient.login(base_url=sdk_service.url, email="admin@acme.example", password=PASSWORD)
    with UserClient.login(
        base_url=sdk_service.url,
        email="admin@acme.example",
        password=PASSWORD,
        mfa_code=confirmed["recovery_codes"][0],
    ) as client:
        me = client.me()

    assert challenged.value.mfa_token
    assert isinstance(challenged.value, AuthenticationError)
    assert me.id == organisation.admin.pk


def test_logout_ends_the_session_at_once(sdk_service, organisation):
    client = admin_client(sdk_service, organisation)
    token = client.access_token
    client.logout()

    with (
        UserClient(base_url=sdk_service.url, access_token=token) as stale,
        pytest.raises(AuthenticationError) as refused,
    ):
        stale.me()

    assert client.access_token is None
    assert refused.value.status == 401
    assert refused.value.code == "SESSION_REVOKED"


def test_a_tenant_admin_creates_a_role_and_a_user_holding_it(sdk_service, organisation):
    with admin_client(sdk_service, organisation) as admin:
        role = admin.create_role(
            name="developer", permissions=DEVELOPER_PERMISSIONS, description="Builds on models"
        )
        user = admin.create_user(
            email="dev@acme.example", password=PASSWORD, role="developer", name="Dev One"
        )
        fetched = admin.get_user(user.id)

    assert isinstance(role, Role)
    assert (role.name, role.tenant_id, role.is_builtin) == (
        "developer",
        organisation.tenant.pk,
        False,
    )
    assert sorted(role.permissions) == sorted(DEVELOPER_PERMISSIONS)
    assert (user.email, user.username, user.role, user.tenant_id, user.name) == (
        "dev@acme.example",
        "dev",
        "developer",
        organisation.tenant.pk,
        "Dev One",
    )
    assert fetched == user
    assert fetched.role == "developer"


def test_assign_role_by_name_and_by_id(sdk_service, organisation):
    with admin_client(sdk_service, organisation) as admin:
        custom = admin.create_role(name="custom_role", permissions=["read:models"])
        user = admin.create_user(email="someone@acme.example", password=PASSWORD)
        default_role = user.role

        by_name = user.assign_role("moderator").role
        by_id = user.assign_role(custom.id).role
        reloaded = admin.get_user(user.id).role

    assert default_role == "user"
    assert (by_name, by_id, reloaded) == ("moderator", "custom_role", "custom_role")


def test_create_user_errors_map_to_their_exceptions(sdk_service, organisation):
    with admin_client(sdk_service, organisation) as admin:
        admin.create_user(email="taken@acme.example", password=PASSWORD)
        with pytest.raises(Conflict) as taken:
            admin.create_user(email="taken@acme.example", password=PASSWORD, username="other")
        with pytest.raises(ValidationError) as weak:
            admin.create_user(email="weak@acme.example", password="short")
        with pytest.raises(ValidationError) as unknown_role:
            admin.create_user(email="x@acme.example", password=PASSWORD, role="nonexistent")

    assert (taken.value.status, taken.value.code) == (409, "USER_EXISTS")
    assert weak.value.status == 400
    assert weak.value.code == "WEAK_PASSWORD"
    assert len(weak.value.errors) >= 1
    assert weak.value.request_id
    assert unknown_role.value.code == "UNKNOWN_ROLE"


def test_another_tenants_users_are_not_found_and_members_cannot_administer(
    sdk_service, organisation
):
    client, me = developer(sdk_service, organisation)
    with UserClient.login(
        base_url=sdk_service.url, email="admin@globex.example", password=PASSWORD
    ) as other_admin:
        with pytest.raises(NotFound) as hidden:
            other_admin.get_user(me.id)
        with pytest.raises(PermissionDenied) as not_an_admin:
            client.create_user(email="sneaky@acme.example", password=PASSWORD)
        with pytest.raises(PermissionDenied) as no_escalation:
            client.create_role(name="boss", permissions=["manage:roles"])
    client.close()

    assert (hidden.value.status, hidden.value.code) == (404, "NOT_FOUND")
    assert not_an_admin.value.status == 403
    assert no_escalation.value.status == 403


# ----- API keys ----------------------------------------------------------------------


def test_generate_list_use_and_revoke_an_api_key(sdk_service, organisation):
    client, me = developer(sdk_service, organisation)
    issued = me.generate_api_key(name="production", expires_in="30d", scopes=["read", "write"])
    listed = me.list_api_keys()

    with UserClient(api_key=issued.api_key, base_url=sdk_service.url) as keyed:
        completion = keyed.complete(HELLO)
        balance = keyed.credits()
        revoked = me.revoke_api_key(issued.id)
        with pytest.raises(AuthenticationError) as dead:
            keyed.credits()
    client.close()

    assert isinstance(issued, IssuedAPIKey)
    assert issued.api_key.startswith("pe-")
    assert issued.api_key not in repr(issued)
    assert issued.scopes == ["read", "write"]
    remaining = issued.expires_at - issued.created_at
    assert timedelta(days=29, hours=23) < remaining <= timedelta(days=30, seconds=5)
    assert issued.id in [key.id for key in listed]
    assert all(isinstance(key, APIKey) and "pe-" not in key.key[8:] for key in listed)
    assert completion["choices"][0]["message"]["content"]
    assert isinstance(balance, Credits)
    assert balance.used_today == 1
    assert revoked.active is False and revoked.revoked_at is not None
    assert (dead.value.status, dead.value.code) == (401, "INVALID_API_KEY")


def test_expiry_and_scopes_translate_to_the_apis_vocabulary(sdk_service, organisation):
    client, me = developer(sdk_service, organisation)
    in_hours = me.generate_api_key("hours", expires_in="12h", scopes=["read:models"])
    in_weeks = me.generate_api_key("weeks", expires_in=timedelta(weeks=2), scopes=None)
    forever = me.generate_api_key("forever", expires_in=None)
    with pytest.raises(ValidationError) as bad_scope:
        me.generate_api_key("bad", scopes=["everything"])
    client.close()

    assert in_hours.scopes == ["read:models"]
    assert timedelta(hours=11, minutes=59) < in_hours.expires_at - in_hours.created_at
    assert in_hours.expires_at - in_hours.created_at <= timedelta(hours=12, seconds=5)
    assert in_weeks.scopes == ["read", "write"]
    assert timedelta(days=13, hours=23) < in_weeks.expires_at - in_weeks.created_at
    assert forever.expires_at is None
    assert bad_scope.value.code == "INVALID_SCOPE"


def test_keys_are_minted_only_by_their_owner(sdk_service, organisation):
    with admin_client(sdk_service, organisation) as admin:
        user = admin.create_user(email="someone@acme.example", password=PASSWORD)
        with pytest.raises(UnsupportedOperation):
            user.generate_api_key("for someone else")
        with pytest.raises(UnsupportedOperation):
            user.list_api_keys()
        with pytest.raises(UnsupportedOperation):
            user.credits()


def test_a_default_key_reads_its_owner_and_the_balance_and_administers_nothing(
    sdk_service, organisation
):
    client, me = developer(sdk_service, organisation)
    issued = me.generate_api_key("metered only")
    with UserClient(api_key=issued.api_key, base_url=sdk_service.url) as keyed:
        owner = keyed.me()
        balance = owner.credits()
        with pytest.raises(ScopeMissing) as no_users:
            keyed.create_user(email="sneaky@acme.example", password=PASSWORD)
        with pytest.raises(KeyNotAccepted) as no_keys:
            owner.generate_api_key("successor")
    client.close()

    assert owner.id == me.id
    assert isinstance(balance, Credits)
    assert no_users.value.code == "API_KEY_SCOPE_MISSING"
    assert no_keys.value.code == "API_KEY_NOT_ACCEPTED"


# ----- credits and the message log ---------------------------------------------------


def test_credits_and_the_message_log_after_a_metered_call(sdk_service, organisation):
    client, me = developer(sdk_service, organisation)
    before = me.credits()
    issued = me.generate_api_key("logged")
    with UserClient(api_key=issued.api_key, base_url=sdk_service.url) as keyed:
        for _ in range(3):
            keyed.complete(HELLO)
    after = client.credits()
    messages = flushed_messages(client, expected=3)
    second_page_walk = list(client.messages(page_size=2))
    client.close()

    assert after.used_today == before.used_today + 3
    assert after.conversations_left == before.conversations_left - 3
    assert len(messages) == 3
    assert [message.id for message in second_page_walk] == [message.id for message in messages]
    assert messages[0].timestamp >= messages[-1].timestamp
    assert messages[0].messages["request"]


def test_exhausted_credits_raise_credits_exhausted(sdk_service, organisation):
    client, me = developer(sdk_service, organisation)
    issued = me.generate_api_key("spent")
    with admin_client(sdk_service, organisation) as admin:
        balance = admin.get_user(me.id).set_credits(
            limits={"conversation_limit": 0}, reason="testing exhaustion"
        )
    with UserClient(api_key=issued.api_key, base_url=sdk_service.url) as keyed:
        started = time.monotonic()
        with pytest.raises(CreditsExhausted) as exhausted:
            keyed.complete(HELLO)
        elapsed = time.monotonic() - started
    client.close()

    assert balance.conversations_left == 0
    assert isinstance(exhausted.value, RateLimited)
    assert (exhausted.value.status, exhausted.value.code) == (429, "CREDITS_EXHAUSTED")
    assert exhausted.value.retry_after > 0
    assert "conversation_limit" in exhausted.value.limits
    assert elapsed < 5  # never retried: the reset is hours away


# ----- authentication errors and limits ----------------------------------------------


def test_a_wrong_password_is_an_authentication_error(sdk_service, organisation):
    with pytest.raises(AuthenticationError) as refused:
        UserClient.login(base_url=sdk_service.url, email="admin@acme.example", password="wrong")

    assert (refused.value.status, refused.value.code) == (401, "INVALID_CREDENTIALS")


def test_repeated_wrong_passwords_lock_the_account(sdk_service, organisation):
    """The failure that reaches the limit is answered Locked. (A further login would
    meet the per-account login rate limit first.)"""
    answers = []
    for _ in range(FAILED_LOGINS_BEFORE_LOCKOUT):
        try:
            UserClient.login(
                base_url=sdk_service.url, email="admin@globex.example", password="wrong"
            )
        except (AuthenticationError, Locked) as refused:
            answers.append(refused)

    *failed, locked = answers
    assert [type(answer) for answer in failed] == [AuthenticationError] * len(failed)
    assert type(locked) is Locked
    assert (locked.status, locked.code) == (423, "ACCOUNT_LOCKED")
    assert locked.retry_after is not None and locked.retry_after > 0


def test_too_many_logins_raise_rate_limited_with_retry_after(sdk_service, organisation):
    for _ in range(LOGINS_PER_ACCOUNT):
        UserClient.login(
            base_url=sdk_service.url, email="admin@acme.example", password=PASSWORD
        ).close()
    started = time.monotonic()
    with pytest.raises(RateLimited) as limited:
        UserClient.login(
            base_url=sdk_service.url,
            email="admin@acme.example",
            password=PASSWORD,
            max_retry_wait=0.5,
        )
    elapsed = time.monotonic() - started

    assert type(limited.value) is RateLimited
    assert (limited.value.status, limited.value.code) == (429, "RATE_LIMITED")
    assert 0 < limited.value.retry_after <= 3600
    assert elapsed < 5  # a wait beyond max_retry_wait is raised, not slept


def test_an_expired_access_token_is_refreshed_once_and_the_call_goes_through(
    sdk_service, organisation
):
    from rest_framework_simplejwt.tokens import AccessToken

    session = admin_client(sdk_service, organisation)
    expired = AccessToken(session.access_token)
    expired.set_exp(lifetime=timedelta(seconds=-60))
    with UserClient(
        base_url=sdk_service.url, access_token=str(expired), refresh_token=session.refresh_token
    ) as client:
        me = client.me()
        refreshed_access = client.access_token
        refreshed_refresh = client.refresh_token
    with (
        UserClient(base_url=sdk_service.url, access_token=str(expired)) as no_refresh,
        pytest.raises(AuthenticationError) as refused,
    ):
        no_refresh.me()
    session.close()

    assert me.id == organisation.admin.pk
    assert refreshed_access != str(expired)
    assert refreshed_refresh != session.refresh_token  # rotated
    assert refused.value.code == "TOKEN_NOT_VALID"


# ----- another user's preferences (staff) ---------------------------------------------


def test_staff_read_and_merge_another_users_preferences_but_only_the_owner_replaces_them(
    sdk_service, organisation
):
    from accounts.models import User as Account

    with admin_client(sdk_service, organisation) as admin:
        user = admin.create_user(email="someone@acme.example", password=PASSWORD)
        Account.objects.filter(pk=user.id).update(preferences={"theme": "dark"})
        read = user.get_preferences()
        merged = user.update_settings(language="fr")
        with pytest.raises(UnsupportedOperation, match="replaced only by their owner"):
            user.set_preferences({"theme": "light"})

    assert read == {"theme": "dark"}
    assert merged == {"theme": "dark", "language": "fr"}
    assert Account.objects.get(pk=user.id).preferences == {"theme": "dark", "language": "fr"}
