"""The SDK with a management-scoped API key alone, end to end under gunicorn.

A tenant admin logs in once to make a key whose scopes name `read:users`,
`write:users` and `manage:roles`, ends that session, and from then on a program
provisions the tenant with the key: roles, users, role assignments, listing. What a
key may never do (mint keys, preferences, billing) raises `KeyNotAccepted`, and a
key without the scope an operation needs raises `ScopeMissing`; the client refuses
none of it by itself: the service decides.
"""

import httpx
import pytest

from ai_marketplace.users import (
    AuthenticationError,
    KeyNotAccepted,
    NotFound,
    PermissionDenied,
    ScopeMissing,
    UnsupportedOperation,
    User,
    UserClient,
)

from .conftest import DEVELOPER_PERMISSIONS, PASSWORD
from .test_client import admin_client

pytestmark = pytest.mark.live

MANAGEMENT_SCOPES = ["read:users", "write:users", "manage:roles"]


def management_key(service, organisation, scopes=MANAGEMENT_SCOPES) -> str:
    """The tenant admin makes a key with a login session, which then ends."""
    with admin_client(service, organisation) as session:
        issued = session.me().generate_api_key("provisioning", scopes=scopes)
        session.logout()
    return issued.api_key


class RecordingTransport(httpx.HTTPTransport):
    """The real transport, remembering each request the client sends."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().handle_request(request)


def test_the_quick_start_with_a_management_key_alone(sdk_service, organisation):
    from security.models import ActorKind, AuditAction
    from security.tests.helpers import audit_row

    api_key = management_key(sdk_service, organisation)

    with UserClient(api_key=api_key, base_url=sdk_service.url) as client:
        client.create_role(name="developer", permissions=DEVELOPER_PERMISSIONS)
        user = client.create_user(email="dev@acme.example", password=PASSWORD, role="developer")
        custom = client.create_role(name="custom_role", permissions=["read:models", "write:models"])
        user.assign_role("custom_role")
        fetched = client.get_user(user.id)
        listed = list(client.users())
        me = client.me()
        roles = {role.name for role in client.roles()}
        changed = client.update_role(custom, description="Reads and writes models")

    assert client.access_token is None  # the key alone did all of it
    assert (user.email, user.tenant_id) == ("dev@acme.example", organisation.tenant.pk)
    assert user.role == "custom_role"  # the User took the answer of assign_role
    assert (custom.tenant_id, sorted(custom.permissions)) == (
        organisation.tenant.pk,
        ["read:models", "write:models"],
    )
    assert fetched == user and fetched.role == "custom_role"
    assert {listed_user.id for listed_user in listed} == {organisation.admin.pk, user.id}
    assert all(isinstance(listed_user, User) for listed_user in listed)
    assert me.id == organisation.admin.pk
    assert {"developer", "custom_role", "admin"} <= roles
    assert changed.description == "Reads and writes models"
    assigned = audit_row(action=AuditAction.USER_ROLE_ASSIGN, target_id=str(user.id))
    assert (assigned.actor_id, assigned.actor_kind) == (organisation.admin.pk, ActorKind.API_KEY)


def test_a_management_key_acts_as_its_owner_and_never_above(sdk_service, organisation):
    from accounts.models import User as Account
    from accounts.tests.factories import UserFactory

    stranger = UserFactory(tenant=organisation.other_tenant, email="x@globex.example")
    api_key = management_key(sdk_service, organisation)

    with UserClient(api_key=api_key, base_url=sdk_service.url) as client:
        with pytest.raises(PermissionDenied) as no_admin:
            client.create_user(email="boss@acme.example", password=PASSWORD, role="admin")
        with pytest.raises(NotFound):
            client.get_user(stranger.pk)
        with pytest.raises(PermissionDenied) as no_strong_role:
            client.create_role(name="deleter", permissions=["delete:users", "read:users"])

    assert (no_admin.value.status, no_admin.value.code) == (403, "ROLE_TOO_HIGH")
    assert no_strong_role.value.code == "ROLE_TOO_HIGH"
    assert not Account.objects.filter(email="boss@acme.example").exists()


def test_a_key_without_the_scope_raises_scope_missing(sdk_service, organisation):
    from accounts.models import User as Account

    default_key = management_key(sdk_service, organisation, scopes=["read", "write"])
    read_only_key = management_key(sdk_service, organisation, scopes=["read:users"])

    with UserClient(api_key=default_key, base_url=sdk_service.url) as keyed:
        me = keyed.me()  # `read` includes read:self: the key reads its owner
        with pytest.raises(ScopeMissing) as cannot_create:
            keyed.create_user(email="sneaky@acme.example", password=PASSWORD)
        with pytest.raises(ScopeMissing) as cannot_list:
            list(keyed.users())
    with UserClient(api_key=read_only_key, base_url=sdk_service.url) as reader:
        listed = list(reader.users())
        with pytest.raises(ScopeMissing) as cannot_write:
            reader.get_user(organisation.admin.pk).assign_role("moderator")

    assert me.id == organisation.admin.pk
    assert isinstance(cannot_create.value, PermissionDenied)
    assert (cannot_create.value.status, cannot_create.value.code) == (
        403,
        "API_KEY_SCOPE_MISSING",
    )
    assert "write:users" in cannot_create.value.message
    assert "read:users" in cannot_list.value.message
    assert not Account.objects.filter(email="sneaky@acme.example").exists()
    assert [user.id for user in listed] == [organisation.admin.pk]
    assert "write:users" in cannot_write.value.message


def test_session_only_calls_with_a_key_raise_key_not_accepted(sdk_service, organisation):
    api_key = management_key(sdk_service, organisation)

    with UserClient(api_key=api_key, base_url=sdk_service.url) as client:
        me = client.me()
        member = client.create_user(email="member@acme.example", password=PASSWORD)
        with pytest.raises(KeyNotAccepted) as minting:
            me.generate_api_key("successor", scopes=MANAGEMENT_SCOPES)
        with pytest.raises(KeyNotAccepted):
            me.list_api_keys()
        with pytest.raises(KeyNotAccepted):
            me.update_settings(theme="dark")
        with pytest.raises(ScopeMissing):
            client.billing()  # a key reads its owner's billing with `read:self` only
        with pytest.raises(KeyNotAccepted):
            member.change_plan("premium")
        with pytest.raises(UnsupportedOperation, match="Only the account itself"):
            member.generate_api_key("for someone else")

    assert isinstance(minting.value, AuthenticationError)
    assert (minting.value.status, minting.value.code) == (401, "API_KEY_NOT_ACCEPTED")
    assert "UserClient.login" in str(minting.value)


def test_users_follows_keyset_pages_with_cursor(sdk_service, organisation):
    from accounts.models import User as Account
    from accounts.tests.factories import UserFactory

    for number in range(7):
        UserFactory(tenant=organisation.tenant, email=f"member{number}@acme.example")
    UserFactory(tenant=organisation.other_tenant, email="hidden@globex.example")
    acme = Account.objects.filter(tenant=organisation.tenant).order_by("id")
    expected = list(acme.values_list("id", flat=True))
    api_key = management_key(sdk_service, organisation)
    transport = RecordingTransport()

    with UserClient(api_key=api_key, base_url=sdk_service.url, transport=transport) as client:
        walked = [user.id for user in client.users(page_size=3, ordering="id")]
        searched = [user.email for user in client.users(search="member3", page_size=3)]

    pages = [
        dict(request.url.params)
        for request in transport.requests
        if request.url.path == "/api/v1/users"
    ]
    assert walked == expected  # 8 users of Acme, in order, each once
    assert len(pages) == 3 + 1  # three keyset pages, then the search's single page
    assert pages[0]["cursor"] == ""  # the first page starts keyset mode
    assert all(page["cursor"] for page in pages[1:3])  # then each `next` link's cursor
    assert "page" not in pages[1]
    assert searched == ["member3@acme.example"]


def test_staff_merge_another_users_settings_but_replace_only_their_own(sdk_service, organisation):
    api_key = management_key(sdk_service, organisation)

    with UserClient(api_key=api_key, base_url=sdk_service.url) as client:
        member = client.create_user(email="member@acme.example", password=PASSWORD)
        stored = member.update_settings(theme="dark", notifications={"slack": True})
        with pytest.raises(UnsupportedOperation, match="replaced only by their owner"):
            member.set_preferences({"theme": "light"})
    with UserClient.login(
        base_url=sdk_service.url, email="member@acme.example", password=PASSWORD
    ) as own:
        effective = own.get_preferences()

    assert stored == {"theme": "dark", "notifications": {"slack": True}}
    assert member.preferences == stored
    assert effective["theme"] == "dark"
    assert effective["notifications"]["slack"] is True
    assert effective["notifications"]["email"] is True  # the default, kept
