"""The /v1/support routes one by one: what each answers and what it changes."""

from datetime import timedelta

import pytest

from accounts.errors import AccountErrorCode
from accounts.models import LoginSession, User
from accounts.services.users import user_status_set
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import ME_URL, assert_envelope, bearer, login
from accounts.tests.world import builtin
from apikeys.models import APIKey
from apikeys.services import apikey_create
from credits.models import CreditAccount, CreditLedgerEntry
from credits.services import account_for
from messagelog.tests.factories import MessageLogFactory
from security.models import AuditAction
from security.tests.helpers import audit_row
from support.levels import EDITABLE_FIELDS, LEVEL_RIGHTS, VISIBLE_FIELDS
from support.tests.helpers import build_staff_world, make_staff, staff_auth, staff_name

STAFF_BODY = {
    "username": "support1",
    "name": "Support Staff 1",
    "email": "Support1@Company.com",
    "password": "Kestrel-Harbor-93",
    "staff_level": "support",
}


@pytest.fixture
def sw(db):
    return build_staff_world()


def as_staff(sw, level: str, reach: str = "global") -> tuple[User, dict]:
    name = staff_name(level, reach)
    return sw.staff[name], sw.auth(name)


def key_works(api_client, key_auth: dict):
    """The status of a metered call made with the key."""
    body = {"messages": [{"role": "user", "content": "Hello"}]}
    return api_client.post("/v1/prompt/completions", body, format="json", **key_auth)


def user_url(user, tail: str = "") -> str:
    return f"/v1/support/users/{user.pk}{tail}"


# ----- create ---------------------------------------------------------------------------


def test_a_platform_admin_creates_staff_that_reach_every_tenant(api_client, sw):
    response = api_client.post(
        "/v1/support/create", STAFF_BODY, format="json", **sw.auth("platform_admin")
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["success"] is True
    assert body["staff"]["staff_level"] == "support"
    assert body["staff"]["tenant"] is None
    assert body["staff"]["email"] == "support1@company.com"
    assert "password" not in body["staff"]
    staff = User.objects.get(username="support1")
    assert staff.support_level == "support"
    assert staff.role.name == "guest"
    assert not (staff.is_staff or staff.is_superuser)
    assert not APIKey.objects.filter(user=staff).exists()
    assert not CreditAccount.objects.filter(user=staff).exists()
    row = audit_row(action=AuditAction.SUPPORT_STAFF_CREATE, target_id=str(staff.pk))
    assert row.actor_id == sw.world.users["platform_admin"].pk
    assert row.changes["support_level"] == "support"


def test_a_tenant_admins_staff_belong_to_that_tenant_and_see_only_it(api_client, sw):
    created = api_client.post(
        "/v1/support/create", STAFF_BODY, format="json", **sw.auth("tenant_admin")
    )
    assert created.status_code == 201, created.content
    assert created.json()["staff"]["tenant"]["id"] == sw.world.tenant_a.pk
    tokens = api_client.post(
        "/v1/support/login",
        {"username": "support1", "password": STAFF_BODY["password"]},
        format="json",
    ).json()

    listed = api_client.get(
        "/v1/support/users?page_size=200", **bearer(tokens["session"]["session_token"])
    )

    ids = {row["id"] for row in listed.json()["results"]}
    assert sw.world.member.pk in ids
    assert sw.world.other_member.pk not in ids


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"email": "user_a@example.com"}, 409, "USER_EXISTS"),
        ({"username": "member_a"}, 409, "USER_EXISTS"),
        ({"password": "short"}, 400, None),
        ({"staff_level": "boss"}, 400, "VALIDATION_ERROR"),
        ({"username": "no spaces"}, 400, "VALIDATION_ERROR"),
    ],
)
def test_staff_creation_refuses_clashes_weak_passwords_and_unknown_levels(
    api_client, sw, change, status, code
):
    response = api_client.post(
        "/v1/support/create", {**STAFF_BODY, **change}, format="json", **sw.auth("platform_admin")
    )

    assert_envelope(response, status, code)
    assert not User.objects.filter(username=STAFF_BODY["username"]).exists()


# ----- login, profile, permissions ------------------------------------------------------


def test_support_login_opens_a_support_session_capped_by_the_setting(api_client, sw, settings):
    settings.SUPPORT_SESSION_DURATION_HOURS = 3
    staff = sw.staff[staff_name("support", "tenant")]

    response = api_client.post(
        "/v1/support/login",
        {"username": staff.username, "password": DEFAULT_PASSWORD, "remember_me": True},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["staff_level"] == "support"
    session = LoginSession.objects.get(user=staff)
    assert session.surface == LoginSession.Surface.SUPPORT
    assert session.expires_at <= session.created_at + timedelta(hours=3)
    profile = api_client.get(
        "/v1/support/profile", **bearer(body["session"]["session_token"])
    ).json()
    assert profile["staff"]["id"] == staff.pk
    assert profile["staff"]["tenant"] == {"id": sw.world.tenant_a.pk, "name": "Acme"}
    assert profile["staff"]["last_login"] is not None


@pytest.mark.parametrize("actor", ["user", "tenant_admin", "platform_admin"])
def test_support_login_refuses_non_staff_as_a_wrong_password(api_client, sw, actor):
    account = sw.world.users[actor]

    response = api_client.post(
        "/v1/support/login",
        {"username": account.username, "password": DEFAULT_PASSWORD},
        format="json",
    )

    assert_envelope(response, 401, "INVALID_CREDENTIALS")
    assert not LoginSession.objects.filter(user=account).exists()


def test_refused_support_logins_count_toward_the_lockout(api_client, sw, settings):
    account = sw.world.member
    for _ in range(settings.MAX_FAILED_LOGIN_ATTEMPTS):
        api_client.post(
            "/v1/support/login",
            {"username": account.username, "password": DEFAULT_PASSWORD},
            format="json",
        )

    response = api_client.post(
        "/v1/users/login",
        {"email": account.email, "password": DEFAULT_PASSWORD},
        format="json",
    )

    assert_envelope(response, 423, "ACCOUNT_LOCKED")


@pytest.mark.parametrize("level", list(User.SupportLevel))
def test_permissions_describe_the_level_from_the_tables(api_client, sw, level):
    _, auth = as_staff(sw, level)

    body = api_client.get("/v1/support/permissions", **auth).json()

    assert body["staff_level"] == level
    assert set(body["rights"]) == {str(right) for right in LEVEL_RIGHTS[level]}
    assert body["visible_fields"] == list(VISIBLE_FIELDS[level])
    assert set(body["editable_fields"]) == EDITABLE_FIELDS[level]


# ----- users ----------------------------------------------------------------------------


@pytest.mark.parametrize("level", list(User.SupportLevel))
def test_list_and_detail_show_exactly_the_levels_fields(api_client, sw, level):
    _, auth = as_staff(sw, level)

    listed = api_client.get("/v1/support/users", **auth).json()
    detail = api_client.get(user_url(sw.world.member), **auth).json()

    assert listed["pagination"]["total"] == len(listed["results"])
    for row in [*listed["results"], detail["user"]]:
        assert list(row) == list(VISIBLE_FIELDS[level])


def test_the_list_holds_plain_users_only(api_client, sw):
    _, auth = as_staff(sw, "advanced")

    rows = api_client.get("/v1/support/users?page_size=200", **auth).json()["results"]

    listed = {row["id"] for row in rows}
    protected = [
        *sw.staff.values(),
        *(sw.world.users[name] for name in ("moderator", "tenant_admin", "platform_admin")),
    ]
    assert {sw.world.member.pk, sw.world.other_member.pk} <= listed
    assert listed.isdisjoint(user.pk for user in protected)


def test_search_by_email_only_for_levels_that_see_emails(api_client, sw):
    UserFactory(username="zed", email="hidden-match@example.org", tenant=sw.world.tenant_a)
    _, new_auth = as_staff(sw, "new")
    _, support_auth = as_staff(sw, "support")

    by_new = api_client.get("/v1/support/users?search=hidden-match", **new_auth).json()
    by_support = api_client.get("/v1/support/users?search=hidden-match", **support_auth).json()

    assert by_new["results"] == []
    assert [row["email"] for row in by_support["results"]] == ["hidden-match@example.org"]


def test_the_list_filters_by_status_and_refuses_unknown_ones(api_client, sw):
    suspended = UserFactory(status=User.Status.SUSPENDED, tenant=sw.world.tenant_a)
    _, auth = as_staff(sw, "new")

    rows = api_client.get("/v1/support/users?status=suspended", **auth).json()["results"]

    assert [row["id"] for row in rows] == [suspended.pk]
    assert_envelope(api_client.get("/v1/support/users?status=zombie", **auth), 400)


def test_deleted_and_unknown_users_are_404(api_client, sw):
    deleted = UserFactory(status=User.Status.DELETED)
    _, auth = as_staff(sw, "advanced")

    assert_envelope(api_client.get(user_url(deleted), **auth), 404)
    assert_envelope(api_client.get("/v1/support/users/99999999", **auth), 404)


def test_support_changes_the_email_through_the_email_service(api_client, sw):
    staff, auth = as_staff(sw, "support")
    member = sw.world.member
    member_auth = bearer(login(api_client, member.email)["access_token"])

    response = api_client.put(
        user_url(member), {"email": "Fresh@Example.com"}, format="json", **auth
    )

    assert response.status_code == 200, response.content
    assert response.json()["user"]["email"] == "fresh@example.com"
    assert User.objects.get(pk=member.pk).email == "fresh@example.com"
    assert api_client.get(ME_URL, **member_auth).status_code == 401
    row = audit_row(action=AuditAction.USER_EMAIL_CHANGED, target_id=str(member.pk))
    assert row.actor_id == staff.pk


def test_an_email_change_waits_for_verification_when_it_is_on(api_client, sw, settings):
    settings.EMAIL_VERIFICATION_ENABLED = True
    _, auth = as_staff(sw, "advanced")

    response = api_client.put(
        user_url(sw.world.member), {"email": "fresh@example.com"}, format="json", **auth
    )

    assert response.status_code == 200, response.content
    assert response.json()["email_verification_pending"] is True
    member = User.objects.get(pk=sw.world.member.pk)
    assert (member.email, member.pending_email) == ("member_a@example.com", "fresh@example.com")


def test_a_taken_email_is_409_and_changes_nothing(api_client, sw):
    _, auth = as_staff(sw, "advanced")

    response = api_client.put(
        user_url(sw.world.member),
        {"email": sw.world.other_member.email.upper(), "name": "Not Applied"},
        format="json",
        **auth,
    )

    assert_envelope(response, 409, "USER_EXISTS")
    assert User.objects.get(pk=sw.world.member.pk).name == sw.world.member.name


@pytest.mark.parametrize(
    "field",
    ["role", "tenant", "tenant_id", "is_staff", "is_superuser", "support_level", "password"],
)
def test_fields_no_level_may_change_are_refused_by_name(api_client, sw, field):
    _, auth = as_staff(sw, "advanced")

    response = api_client.put(
        user_url(sw.world.member), {field: "admin", "name": "Renamed"}, format="json", **auth
    )

    body = assert_envelope(response, 403, "SUPPORT_FIELD_NOT_EDITABLE")
    assert body["fields"] == [field]
    assert User.objects.get(pk=sw.world.member.pk).name == sw.world.member.name


def test_advanced_staff_edit_the_profile_and_suspend(api_client, sw):
    staff, auth = as_staff(sw, "advanced", "tenant")
    member = sw.world.member
    key = apikey_create(user=member, name="ci", actor=member).key

    response = api_client.put(
        user_url(member),
        {"name": "Renamed Person", "hobbies": "chess", "status": "suspended"},
        format="json",
        **auth,
    )

    assert response.status_code == 200, response.content
    member = User.objects.get(pk=member.pk)
    assert (member.name, member.hobbies, member.status) == ("Renamed Person", "chess", "suspended")
    assert APIKey.objects.get(pk=key.pk).revoked_at is not None
    assert audit_row(action=AuditAction.USER_UPDATE, target_id=str(member.pk)).actor_id == staff.pk
    status_row = audit_row(action=AuditAction.USER_STATUS_CHANGE, target_id=str(member.pk))
    assert status_row.actor_id == staff.pk


@pytest.mark.parametrize("status", ["deleted", "pending"])
def test_staff_set_active_or_suspended_only(api_client, sw, status):
    _, auth = as_staff(sw, "advanced")

    response = api_client.put(user_url(sw.world.member), {"status": status}, format="json", **auth)

    assert_envelope(response, 400, "VALIDATION_ERROR")


def test_an_empty_update_is_400(api_client, sw):
    _, auth = as_staff(sw, "advanced")

    assert_envelope(
        api_client.put(user_url(sw.world.member), {}, format="json", **auth),
        400,
        "NOTHING_TO_CHANGE",
    )


# ----- password, credits, plan ----------------------------------------------------------


def test_reset_password_sets_it_and_ends_the_users_sessions(api_client, sw):
    staff, auth = as_staff(sw, "support")
    member = sw.world.member
    member_auth = bearer(login(api_client, member.email)["access_token"])

    response = api_client.post(
        user_url(member, "/reset-password"),
        {"new_password": "NewSecurePass123"},
        format="json",
        **auth,
    )

    assert response.status_code == 200, response.content
    member = User.objects.get(pk=member.pk)
    assert member.check_password("NewSecurePass123")
    assert api_client.get(ME_URL, **member_auth).status_code == 401
    assert not LoginSession.objects.filter(user=member, revoked_at__isnull=True).exists()
    row = audit_row(action=AuditAction.USER_PASSWORD_SET_BY_STAFF, target_id=str(member.pk))
    assert row.actor_id == staff.pk
    assert "NewSecurePass123" not in str(row.changes)


@pytest.mark.parametrize("password", ["short1A", "alllowercase123", "NoDigitsHere"])
def test_reset_password_applies_the_password_policy(api_client, sw, password):
    _, auth = as_staff(sw, "support")

    response = api_client.post(
        user_url(sw.world.member, "/reset-password"),
        {"new_password": password},
        format="json",
        **auth,
    )

    assert_envelope(response, 400)
    assert User.objects.get(pk=sw.world.member.pk).check_password(DEFAULT_PASSWORD)


def test_credits_change_the_balance_with_ledger_and_audit_rows(api_client, sw):
    staff, auth = as_staff(sw, "support")
    member = sw.world.member

    response = api_client.put(
        user_url(member, "/credits"),
        {"credits": {"main": 50, "reset": 50}, "limits": {"conversation_limit": 40, "reset": 50}},
        format="json",
        **auth,
    )

    assert response.status_code == 200, response.content
    assert response.json()["limits"] == {"conversation_limit": 40, "reset": 50}
    account = account_for(member)
    assert account.credits() == {"main": 50, "reset": 50}
    assert account.limits() == {"conversation_limit": 40, "reset": 50}
    assert CreditLedgerEntry.objects.get(account=account).actor_id == staff.pk
    assert (
        audit_row(action=AuditAction.CREDITS_CHANGE, target_id=str(member.pk)).actor_id == staff.pk
    )


@pytest.mark.parametrize(
    "body",
    [{}, {"credits": {"main": "50"}}, {"limits": {"conversation_limit": -1}}, {"credits": [1]}],
)
def test_bad_credit_bodies_are_400_and_change_nothing(api_client, sw, body):
    _, auth = as_staff(sw, "support")

    response = api_client.put(user_url(sw.world.member, "/credits"), body, format="json", **auth)

    assert_envelope(response, 400)
    assert not CreditLedgerEntry.objects.exists()


def test_plan_changes_with_an_audit_row_and_refuses_unknown_plans(api_client, sw):
    staff, auth = as_staff(sw, "support")
    member = sw.world.member

    response = api_client.put(
        user_url(member, "/plan"), {"subscription_plan": "enterprise"}, format="json", **auth
    )
    refused = api_client.put(
        user_url(member, "/plan"), {"subscription_plan": "platinum"}, format="json", **auth
    )

    assert response.status_code == 200, response.content
    assert response.json()["user"]["subscription_plan"] == "enterprise"
    assert User.objects.get(pk=member.pk).subscription_plan_id == "enterprise"
    row = audit_row(action=AuditAction.PLAN_CHANGE, target_id=str(member.pk))
    assert row.actor_id == staff.pk
    assert row.changes["subscription_plan"] == {"before": "free", "after": "enterprise"}
    assert_envelope(refused, 400, "UNKNOWN_PLAN")


# ----- messages and API keys (advanced) ------------------------------------------------


def test_advanced_staff_read_a_users_conversations_newest_first_and_it_is_audited(api_client, sw):
    staff, auth = as_staff(sw, "advanced")
    member = sw.world.member
    old = MessageLogFactory(user_id=member.pk, model="old")
    new = MessageLogFactory(user_id=member.pk, model="new", timestamp=old.timestamp + timedelta(1))
    MessageLogFactory(user_id=sw.world.other_member.pk)

    response = api_client.get(user_url(member, "/messages"), **auth)

    assert response.status_code == 200, response.content
    assert [row["model"] for row in response.json()["results"]] == [new.model, old.model]
    row = audit_row(action=AuditAction.SUPPORT_MESSAGES_READ, target_id=str(member.pk))
    assert row.actor_id == staff.pk


def test_api_keys_are_listed_masked_and_the_read_is_audited(api_client, sw):
    staff, auth = as_staff(sw, "advanced")
    member = sw.world.member
    issued = apikey_create(user=member, name="ci", actor=member)

    response = api_client.get(user_url(member, "/api-keys"), **auth)

    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [issued.key.pk]
    assert issued.clear not in response.content.decode()
    row = audit_row(action=AuditAction.SUPPORT_API_KEYS_READ, target_id=str(member.pk))
    assert row.actor_id == staff.pk


def test_revoke_kills_the_key_at_once(api_client, sw):
    staff, auth = as_staff(sw, "advanced")
    member = sw.world.member
    issued = apikey_create(user=member, name="ci", actor=member)
    key_auth = {"HTTP_AUTHORIZATION": f"Bearer {issued.clear}"}
    assert key_works(api_client, key_auth).status_code == 200

    response = api_client.post(user_url(member, f"/api-keys/{issued.key.pk}/revoke"), **auth)

    assert response.status_code == 200, response.content
    assert response.json()["api_key"]["active"] is False
    assert key_works(api_client, key_auth).status_code == 401
    row = audit_row(action=AuditAction.API_KEY_REVOKE, target_id=str(issued.key.pk))
    assert row.actor_id == staff.pk


def test_regenerate_replaces_the_key_and_shows_the_new_one_once(api_client, sw):
    staff, auth = as_staff(sw, "advanced")
    member = sw.world.member
    issued = apikey_create(user=member, name="ci", actor=member)

    response = api_client.post(user_url(member, f"/api-keys/{issued.key.pk}/regenerate"), **auth)

    assert response.status_code == 200, response.content
    new_clear = response.json()["api_key"]
    assert new_clear.startswith("pe-") and new_clear != issued.clear
    old_auth = {"HTTP_AUTHORIZATION": f"Bearer {issued.clear}"}
    new_auth = {"HTTP_AUTHORIZATION": f"Bearer {new_clear}"}
    assert key_works(api_client, old_auth).status_code == 401
    assert key_works(api_client, new_auth).status_code == 200
    row = audit_row(action=AuditAction.API_KEY_ROTATE, target_id=str(issued.key.pk))
    assert row.actor_id == staff.pk
    # A regenerated (revoked) key cannot be regenerated again.
    again = api_client.post(user_url(member, f"/api-keys/{issued.key.pk}/regenerate"), **auth)
    assert_envelope(again, 404)


def test_another_users_key_is_404_through_this_user(api_client, sw):
    _, auth = as_staff(sw, "advanced")
    other_key = apikey_create(user=sw.world.other_member, name="x", actor=sw.world.other_member)

    response = api_client.post(
        user_url(sw.world.member, f"/api-keys/{other_key.key.pk}/revoke"), **auth
    )

    assert_envelope(response, 404)
    assert APIKey.objects.get(pk=other_key.key.pk).revoked_at is None


# ----- staff elsewhere -----------------------------------------------------------------


def test_staff_gain_nothing_on_the_rest_of_the_api(api_client, sw):
    _, auth = as_staff(sw, "advanced", "tenant")
    member = sw.world.member

    # Reads find nothing; writes stop at the read-only guest role staff hold.
    assert_envelope(api_client.get(f"/api/v1/users/{member.pk}", **auth), 404)
    assert_envelope(
        api_client.patch(f"/api/v1/users/{member.pk}", {"name": "Renamed"}, format="json", **auth),
        403,
        AccountErrorCode.ROLE_READ_ONLY,
    )
    assert_envelope(
        api_client.put(
            f"/api/v1/users/{member.pk}/credits",
            {"limits": {"conversation_limit": 9}},
            format="json",
            **auth,
        ),
        403,
        AccountErrorCode.ROLE_READ_ONLY,
    )
    member.refresh_from_db()
    assert member.name != "Renamed"
    assert_envelope(api_client.get("/v1/admin-panel/users", **auth), 403)


def test_a_suspended_staff_member_is_refused(api_client, db):
    staff = make_staff("advanced", username="gone_staff")
    auth = staff_auth(staff)
    user_status_set(user=staff, status=User.Status.SUSPENDED, actor=None)

    response = api_client.get("/v1/support/profile", **auth)

    assert_envelope(response, 401)


def test_a_plain_guest_is_not_support_staff(api_client, db):
    guest = UserFactory(role=builtin("guest"))
    auth = bearer(login(api_client, guest.email)["access_token"])

    assert_envelope(api_client.get("/v1/support/profile", **auth), 403, "SUPPORT_STAFF_ONLY")
