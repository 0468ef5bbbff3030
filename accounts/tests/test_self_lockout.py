"""Nobody suspends, demotes, un-staffs or deletes their own account, nor the last
active superuser: through the admin site's forms and actions (erasure included), and
through the user admin API (`guard_against_lockout`)."""

import pytest
from django.contrib.auth.models import Permission

from accounts.models import User
from accounts.services.sessions import ClientInfo, session_start
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import admin_change_form, assert_envelope, bearer, login
from accounts.tests.world import builtin
from security.models import AuditLog

SELF = "SELF_LOCKOUT"
LAST = "LAST_SUPERUSER"


def _auth(user: User) -> dict:
    """A login session of `user` that passed MFA (the staff rules ask for it)."""
    pair = session_start(user=user, client=ClientInfo("127.0.0.1", "tests"), mfa_verified=True)
    return {"HTTP_AUTHORIZATION": f"Bearer {pair.access}"}


def _superuser(username: str) -> User:
    return UserFactory(username=username, is_staff=True, is_superuser=True, role=builtin("admin"))


def _staff_with(client, *codenames: str) -> User:
    """A staff member (not a superuser) logged in to the admin site with these rights."""
    staff = UserFactory(username="deputy", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(staff)
    return staff


def _form_post(client, user: User, **changes):
    """The admin's change form of `user`, posted back with `changes`."""
    data = admin_change_form(client, user)
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)  # an unticked box is not posted
        else:
            data[name] = value
    return client.post(f"/admin/accounts/user/{user.pk}/change/", data, follow=True)


def _action(client, action: str, *users: User):
    return client.post(
        "/admin/accounts/user/",
        {"action": action, "_selected_action": [user.pk for user in users]},
        follow=True,
    )


def _refused(page, code_text: str) -> None:
    assert page.status_code == 200
    text = page.content.decode()
    assert "Nothing changed" in text and code_text in text, text[-3000:]


# ----- the admin site ----------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [{"status": "suspended"}, {"status": "deleted"}, {"is_superuser": False}, {"is_staff": False}],
    ids=["suspend", "delete", "untick-superuser", "untick-staff"],
)
def test_admin_form_refuses_taking_rights_from_oneself(admin_client, changes):
    _superuser("other_root")  # not the last superuser: the refusal is about oneself
    boss = admin_client.admin

    page = _form_post(admin_client, boss, **changes)

    _refused(page, "your own account")
    boss.refresh_from_db()
    assert boss.status == User.Status.ACTIVE and boss.is_superuser and boss.is_staff
    assert not AuditLog.objects.filter(action__in=["user.status_change", "admin.user.update"])


def test_admin_form_refuses_a_new_role_for_oneself(admin_client):
    boss = admin_client.admin
    role_before = boss.role_id

    page = _form_post(admin_client, boss, role=builtin("guest").pk)

    _refused(page, "your own account")
    boss.refresh_from_db()
    assert boss.role_id == role_before != builtin("guest").pk


@pytest.mark.parametrize(
    "changes",
    [{"status": "suspended"}, {"is_superuser": False}, {"is_staff": False}],
    ids=["suspend", "untick-superuser", "untick-staff"],
)
def test_admin_form_refuses_taking_the_last_superuser_out(client, db, changes):
    root = _superuser("only_root")
    _staff_with(client, "view_user", "change_user")

    page = _form_post(client, root, **changes)

    _refused(page, "last active superuser")
    root.refresh_from_db()
    assert root.status == User.Status.ACTIVE and root.is_superuser and root.is_staff


def test_admin_form_still_changes_another_superuser(admin_client):
    other = _superuser("other_root")

    page = _form_post(admin_client, other, is_superuser=False, status="suspended")

    assert "Nothing changed" not in page.content.decode()
    other.refresh_from_db()
    assert not other.is_superuser and other.status == User.Status.SUSPENDED


@pytest.mark.parametrize("action", ["suspend_users", "make_users", "delete_recoverably"])
def test_admin_actions_refuse_oneself_and_change_nobody(admin_client, action):
    boss = admin_client.admin
    bystander = UserFactory(username="bystander", role=builtin("moderator"))

    page = _action(admin_client, action, boss, bystander)

    assert "Nothing changed" in page.content.decode()
    boss.refresh_from_db()
    bystander.refresh_from_db()
    assert boss.status == bystander.status == User.Status.ACTIVE
    assert bystander.role.name == "moderator"


def test_admin_suspend_action_refuses_the_last_superuser(client, db):
    root = _superuser("only_root")
    _staff_with(client, "view_user", "change_user")

    page = _action(client, "suspend_users", root)

    _refused(page, "last active superuser")
    root.refresh_from_db()
    assert root.status == User.Status.ACTIVE


def test_admin_suspends_every_superuser_but_the_last_one_of_a_selection(client, db):
    first, second = _superuser("root_one"), _superuser("root_two")
    _staff_with(client, "view_user", "change_user")

    page = _action(client, "suspend_users", first, second)

    _refused(page, "last active superuser")
    assert set(User.objects.filter(is_superuser=True).values_list("status", flat=True)) == {
        "active"
    }


def test_erase_refuses_oneself_and_erases_nobody(admin_client):
    boss = admin_client.admin
    bystander = UserFactory(username="bystander")

    page = admin_client.post(
        "/admin/accounts/user/",
        {
            "action": "erase_users",
            "_selected_action": [boss.pk, bystander.pk],
            "erase_confirmed": "yes",
            "reason": "request",
        },
        follow=True,
    )

    _refused(page, "your own account")
    assert User.objects.filter(pk__in=[boss.pk, bystander.pk]).count() == 2


def test_there_is_no_delete_page_nor_stock_delete(admin_client):
    other = UserFactory(username="other")

    page = admin_client.post(f"/admin/accounts/user/{other.pk}/delete/", {"post": "yes"})
    admin_client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"},
    )

    assert page.status_code == 403
    assert User.objects.filter(pk=other.pk, status=User.Status.ACTIVE).exists()


# ----- the API -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/users/{pk}", {"status": "suspended"}),
        ("/api/v1/users/{pk}", {"role": "user"}),
        ("/v1/admin-panel/users/{pk}", {"status": "suspended"}),
        ("/v1/admin-panel/users/{pk}", {"role": "guest"}),
    ],
)
def test_api_update_refuses_taking_rights_from_oneself(api_client, db, method, url, body):
    root = _superuser("root")

    response = getattr(api_client, method)(
        url.format(pk=root.pk), body, format="json", **_auth(root)
    )

    assert_envelope(response, 403, SELF)
    root.refresh_from_db()
    assert root.status == User.Status.ACTIVE and root.role.name == "admin"


def test_api_update_of_ones_own_profile_fields_still_works(api_client, db):
    root = _superuser("root")

    response = api_client.patch(
        f"/api/v1/users/{root.pk}",
        {"name": "Root", "status": "active", "role": "admin"},
        format="json",
        **_auth(root),
    )

    assert response.status_code == 200, response.json()
    root.refresh_from_db()
    assert root.name == "Root"


@pytest.mark.parametrize("url", ["/api/v1/users/{pk}", "/v1/admin-panel/users/{pk}"])
def test_api_staff_deletion_refuses_oneself_even_with_the_password(api_client, db, url):
    root = _superuser("root")
    _superuser("other_root")

    response = api_client.delete(
        url.format(pk=root.pk), {"password": DEFAULT_PASSWORD}, format="json", **_auth(root)
    )

    assert_envelope(response, 403, SELF)
    root.refresh_from_db()
    assert root.status == User.Status.ACTIVE


def test_api_status_and_role_routes_refuse_oneself(api_client, db):
    root = _superuser("root")
    auth = _auth(root)

    status = api_client.post(
        f"/api/v1/users/{root.pk}/status", {"status": "suspended"}, format="json", **auth
    )
    role = api_client.post(
        f"/api/v1/users/{root.pk}/roles", {"role": "user"}, format="json", **auth
    )

    assert_envelope(status, 403, SELF)
    assert_envelope(role, 403, SELF)


def test_api_bulk_update_refuses_the_whole_batch_with_oneself_in_it(api_client, db):
    root = _superuser("root")
    member = UserFactory(username="member")

    response = api_client.post(
        "/api/v1/users/bulk",
        {"ids": [member.pk, root.pk], "status": "suspended"},
        format="json",
        **_auth(root),
    )

    body = assert_envelope(response, 400, "BULK_REFUSED")
    assert [item["code"] for item in body["items"]] == [SELF]
    member.refresh_from_db()
    assert member.status == User.Status.ACTIVE


def test_api_staff_still_suspend_and_delete_another_superuser(api_client, db):
    root, other = _superuser("root"), _superuser("other_root")
    auth = _auth(root)

    suspended = api_client.put(
        f"/api/v1/users/{other.pk}", {"status": "suspended"}, format="json", **auth
    )
    deleted = api_client.delete(f"/v1/admin-panel/users/{other.pk}", **auth)

    assert suspended.status_code == 200, suspended.json()
    assert deleted.status_code == 200, deleted.json()
    other.refresh_from_db()
    assert other.status == User.Status.DELETED


# ----- deleting one's own account --------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/users/me", "/v1/users/account"])
def test_owner_still_deletes_their_own_account(api_client, user, url):
    auth = bearer(login(api_client, user.email)["access_token"])

    response = api_client.delete(url, {"password": DEFAULT_PASSWORD}, format="json", **auth)

    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert user.status == User.Status.DELETED


@pytest.mark.parametrize("url", ["/api/v1/users/me", "/v1/users/account"])
def test_the_last_superuser_may_not_delete_their_own_account(api_client, db, url):
    root = _superuser("root")

    response = api_client.delete(url, {"password": DEFAULT_PASSWORD}, format="json", **_auth(root))

    assert_envelope(response, 409, LAST)
    root.refresh_from_db()
    assert root.status == User.Status.ACTIVE


def test_a_superuser_who_is_not_the_last_deletes_their_own_account(api_client, db):
    root = _superuser("root")
    _superuser("other_root")

    response = api_client.delete(
        "/api/v1/users/me", {"password": DEFAULT_PASSWORD}, format="json", **_auth(root)
    )

    assert response.status_code == 200, response.json()
