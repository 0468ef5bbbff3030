"""The user page of the admin site: what it shows, and that every change made from it
(revoking, suspending, creating, erasing) goes through the API's services."""

from django.conf import settings

from accounts.models import LoginSession, User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    LOGIN_URL,
    ME_URL,
    PASSWORD,
    admin_change_form,
    assert_envelope,
    bearer,
    login,
)
from apikeys.models import APIKey
from apikeys.services import apikey_create
from apikeys.tests.helpers import use_key
from credits.models import CreditAccount
from credits.services import credits_set
from messagelog.models import MessageLog
from security.models import AuditLog
from security.tests.helpers import audit_row

USERS = "/admin/accounts/user/"


def page_of(user) -> str:
    return f"{USERS}{user.pk}/change/"


def row_field(client, user, model, pk, name: str = "revoke") -> str:
    """The form field name of one row's tick in the user page's list of `model`."""
    page = client.get(page_of(user))
    for inline in page.context["inline_admin_formsets"]:
        if inline.formset.model is model:
            for row in inline.formset.forms:
                if str(row.instance.pk) == str(pk):
                    return row[name].html_name
    raise AssertionError(f"no row {pk} of {model.__name__} on the page")


def lock_out(api_client, user) -> None:
    """Fail logins until the account is locked, from an address the admin does not use
    (the firewall may block that address too)."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post(
            LOGIN_URL,
            {"email": user.email, "password": "wrong"},
            format="json",
            REMOTE_ADDR="198.51.100.9",
        )


def save(client, user, **changes):
    return client.post(page_of(user), admin_change_form(client, user, **changes))


# ----- what the page shows -------------------------------------------------------------


def test_the_page_shows_each_section_and_never_a_key_secret(admin_client, api_client, user):
    tokens = login(api_client, user.email, REMOTE_ADDR="203.0.113.7")
    issued = apikey_create(user=user, name="deploy-bot", actor=user)
    credits_set(
        user=user,
        actor=admin_client.admin,
        credits={"main": 42},
        limits=None,
        reason="goodwill after outage",
    )
    entry = MessageLog.objects.create(
        user_id=user.pk, username=user.username, model="gpt-x", messages=[{"text": "PRIVATE-TALK"}]
    )

    page = admin_client.get(page_of(user))
    html = page.content.decode()

    assert page.status_code == 200
    # The order: who, then status, role and tenant, then the rest.
    assert html.index('name="username"') < html.index('name="status"') < html.index('name="role"')
    assert html.index('name="tenant"') < html.index('name="first_name"')
    assert 'name="groups"' not in html and 'name="user_permissions"' not in html
    # Sessions and keys.
    assert "203.0.113.7" in html and str(tokens["session_id"]) not in ("",)
    assert issued.key.masked in html and "deploy-bot" in html
    assert issued.clear not in html and issued.key.digest not in html
    # Credits: the balance, the last ledger row, the page where a balance changes.
    assert f"/admin/credits/creditaccount/{user.credit_account.pk}/change/" in html
    assert "goodwill after outage" in html
    # Conversations: a link to the audited page, never the contents.
    assert f"/admin/messagelog/messagelog/{entry.pk}/change/" in html
    assert "PRIVATE-TALK" not in html
    # State and history.
    assert "Not locked" in html and "Not enrolled" in html
    assert "/admin/security/auditlog/?target_type=accounts.user&amp;target_id=" in html
    assert "credits.change" in html


def test_the_page_shows_a_lockout_and_enrolled_mfa(admin_client, api_client, enrolled):
    user, _, _ = enrolled
    lock_out(api_client, user)

    html = admin_client.get(page_of(user)).content.decode()

    assert "Locked until" in html and "Enrolled" in html


def test_the_lists_are_read_only(admin_client, api_client, user):
    login(api_client, user.email)
    apikey_create(user=user, name="ci", actor=user)

    page = admin_client.get(page_of(user))

    for inline in page.context["inline_admin_formsets"]:
        assert not inline.has_add_permission and not inline.has_delete_permission
        assert inline.formset.max_num == 0
        assert set(inline.formset.forms[0].fields) <= {"revoke", "id", "user"}


def test_the_page_keeps_its_queries_bounded(
    admin_client, api_client, user, django_assert_max_num_queries
):
    for number in range(25):
        apikey_create(user=user, name=f"key-{number}", actor=user)
        LoginSession.objects.create(
            user=user, refresh_jti=f"jti-{number:016d}", expires_at="2999-01-01T00:00:00Z"
        )
        MessageLog.objects.create(user_id=user.pk, model="m", messages=[])

    with django_assert_max_num_queries(40):
        page = admin_client.get(page_of(user))

    shown = {
        inline.formset.model: inline.formset for inline in page.context["inline_admin_formsets"]
    }
    assert len(shown[APIKey].forms) == 20 and len(shown[LoginSession].forms) == 20
    newest = APIKey.objects.filter(user=user).order_by("-created_at")[:20]
    assert [row.instance.pk for row in shown[APIKey].forms] == [key.pk for key in newest]


# ----- revoking from the page --------------------------------------------------------


def test_revoking_a_session_from_the_page_ends_it(admin_client, api_client, user):
    tokens = login(api_client, user.email)
    other = login(api_client, user.email)
    tick = row_field(admin_client, user, LoginSession, tokens["session_id"])

    response = save(admin_client, user, **{tick: "on"})

    assert response.status_code == 302, response.content[:2000]
    assert_envelope(api_client.get(ME_URL, **bearer(tokens["access_token"])), 401)
    assert api_client.get(ME_URL, **bearer(other["access_token"])).status_code == 200
    assert LoginSession.objects.filter(user=user).count() == 2  # revoked, not deleted
    assert audit_row(action="session.revoke", actor_label="boss")


def test_revoking_a_key_from_the_page_kills_it(admin_client, api_client, user):
    issued = apikey_create(user=user, name="ci", actor=user)
    assert use_key(api_client, issued.clear).status_code != 401
    tick = row_field(admin_client, user, APIKey, issued.key.pk)

    response = save(admin_client, user, **{tick: "on"})

    assert response.status_code == 302
    assert_envelope(use_key(api_client, issued.clear), 401)
    assert APIKey.objects.get(pk=issued.key.pk).revoked_at is not None
    assert audit_row(action="api_key.revoke", actor_label="boss")


def test_a_staff_member_who_may_only_view_sessions_cannot_revoke_from_the_page(
    client, api_client, user
):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(codename__in=["view_user", "change_user", "view_loginsession"])
    )
    client.force_login(viewer)
    tokens = login(api_client, user.email)

    page = client.get(page_of(user))

    sessions = next(
        inline
        for inline in page.context["inline_admin_formsets"]
        if inline.formset.model is LoginSession
    )
    assert not sessions.has_change_permission
    assert api_client.get(ME_URL, **bearer(tokens["access_token"])).status_code == 200


# ----- status through the form -------------------------------------------------------


def test_suspend_and_reactivate_through_the_form_leave_old_tokens_dead(
    admin_client, api_client, user
):
    tokens = login(api_client, user.email)
    issued = apikey_create(user=user, name="ci", actor=user)

    suspended = save(admin_client, user, status=User.Status.SUSPENDED)
    reactivated = save(admin_client, user, status=User.Status.ACTIVE)

    assert suspended.status_code == 302 and reactivated.status_code == 302
    assert User.objects.get(pk=user.pk).status == User.Status.ACTIVE
    assert_envelope(api_client.get(ME_URL, **bearer(tokens["access_token"])), 401)
    assert_envelope(use_key(api_client, issued.clear), 401)
    assert login(api_client, user.email)["access_token"]  # a new login works
    assert AuditLog.objects.filter(action="user.status_change", target_id=str(user.pk)).count() == 2


def test_a_role_changed_through_the_form_goes_through_the_role_service(admin_client, user):
    from accounts.models import Role

    moderator = Role.objects.get(name="moderator", tenant__isnull=True)

    response = save(admin_client, user, role=str(moderator.pk))

    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).role == moderator
    assert audit_row(action="user.role_assign", actor_label="boss")


def test_the_unlock_and_mfa_ticks_call_their_services(admin_client, api_client, enrolled):
    user, _, _ = enrolled
    lock_out(api_client, user)

    response = save(admin_client, user, unlock_account="on", reset_mfa="on")

    assert response.status_code == 302
    assert audit_row(action="account.unlock", actor_label="boss")
    assert audit_row(action="mfa.reset_by_staff", actor_label="boss")
    assert "access_token" in login(api_client, user.email)  # no lockout, no second step


# ----- adding a user -----------------------------------------------------------------


def test_add_user_makes_role_key_credit_account_and_audit(admin_client):
    response = admin_client.post(
        f"{USERS}add/",
        {
            "username": "added",
            "email": "Added@Example.com",
            "name": "Added Person",
            "password1": "AddedPass12345",
            "password2": "AddedPass12345",
            "role_name": "user",
            "tenant": "",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    added = User.objects.get(username="added")
    assert added.email == "added@example.com" and added.role.name == "user"
    assert added.password.startswith("bcrypt_sha256$")
    assert APIKey.objects.filter(user=added, is_primary=True, revoked_at__isnull=True).exists()
    assert CreditAccount.objects.filter(user=added).exists()
    assert audit_row(action="user.create", actor_label="boss")


def test_add_user_applies_the_password_policy(admin_client):
    response = admin_client.post(
        f"{USERS}add/",
        {
            "username": "weak",
            "email": "weak@example.com",
            "password1": "short",
            "password2": "short",
            "role_name": "user",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["password2"]
    assert not User.objects.filter(username="weak").exists()


def test_add_user_page_has_no_groups_or_usable_password_switch(admin_client):
    html = admin_client.get(f"{USERS}add/").content.decode()

    assert 'name="role_name"' in html and 'name="tenant"' in html
    assert 'name="groups"' not in html and 'name="usable_password"' not in html


# ----- deleting and erasing ----------------------------------------------------------


def test_the_stock_delete_is_gone(admin_client, user):
    changelist = admin_client.get(USERS).content.decode()
    stock = admin_client.post(USERS, {"action": "delete_selected", "_selected_action": [user.pk]})
    delete_page = admin_client.get(f"{USERS}{user.pk}/delete/")

    assert 'value="delete_selected"' not in changelist
    assert 'value="delete_recoverably"' in changelist and 'value="erase_users"' in changelist
    assert stock.status_code in (200, 302)
    assert delete_page.status_code == 403
    assert User.objects.filter(pk=user.pk, status=User.Status.ACTIVE).exists()


def test_erasing_asks_for_a_reason_then_erases_and_audits(admin_client, api_client, user):
    tokens = login(api_client, user.email)
    issued = apikey_create(user=user, name="ci", actor=user)
    MessageLog.objects.create(
        user_id=user.pk, username=user.username, email=user.email, model="m", messages=[]
    )
    user_id, username = user.pk, user.username
    chosen = {"action": "erase_users", "_selected_action": [user_id]}

    asked = admin_client.post(USERS, chosen)
    no_reason = admin_client.post(USERS, {**chosen, "erase_confirmed": "yes", "reason": " "})
    assert User.objects.filter(pk=user_id).exists()
    erased = admin_client.post(
        USERS, {**chosen, "erase_confirmed": "yes", "reason": "erasure request #12"}
    )

    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    assert no_reason.status_code == 200
    assert erased.status_code == 302
    assert not User.objects.filter(pk=user_id).exists()
    row = audit_row(action="user.erased", target_id=str(user_id))
    assert row.actor_label == "boss"
    assert row.changes == {
        "user_id": user_id,
        "username": username,
        "reason": "erasure request #12",
    }
    assert_envelope(api_client.get(ME_URL, **bearer(tokens["access_token"])), 401)
    assert_envelope(use_key(api_client, issued.clear), 401)
    assert not MessageLog.objects.filter(user_id=user_id, username=username).exists()


def test_erasing_ones_own_account_is_refused(admin_client):
    boss = admin_client.admin
    UserFactory(username="other-super", is_superuser=True, is_staff=True)

    page = admin_client.post(
        USERS,
        {
            "action": "erase_users",
            "_selected_action": [boss.pk],
            "erase_confirmed": "yes",
            "reason": "oops",
        },
        follow=True,
    )

    assert "Nothing changed" in page.content.decode()
    assert User.objects.filter(pk=boss.pk).exists()
    assert not AuditLog.objects.filter(action="user.erased").exists()


def test_staff_without_the_delete_permission_cannot_erase(client, user):
    from django.contrib.auth.models import Permission

    staff = UserFactory(username="plainstaff", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client.force_login(staff)

    changelist = client.get(USERS).content.decode()
    client.post(
        USERS,
        {
            "action": "erase_users",
            "_selected_action": [user.pk],
            "erase_confirmed": "yes",
            "reason": "x",
        },
    )

    assert 'value="erase_users"' not in changelist
    assert User.objects.filter(pk=user.pk).exists()


def test_api_user_creation_also_makes_the_key_and_credit_account(api_client, admin_client):
    boss_tokens = login(api_client, "boss@example.com", "BossPass12345")

    response = api_client.post(
        "/api/v1/users",
        {"username": "viaapi", "email": "viaapi@example.com", "password": PASSWORD},
        format="json",
        **bearer(boss_tokens["access_token"]),
    )

    assert response.status_code == 201, response.json()
    created = User.objects.get(username="viaapi")
    assert APIKey.objects.filter(user=created, is_primary=True).exists()
    assert CreditAccount.objects.filter(user=created).exists()


def test_staff_see_only_the_sections_whose_pages_they_may_view(client, user):
    from django.contrib.auth.models import Permission

    staff = UserFactory(username="deskstaff", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client.force_login(staff)
    MessageLog.objects.create(user_id=user.pk, model="m", messages=[])

    page = client.get(page_of(user))
    html = page.content.decode()

    assert page.status_code == 200
    assert "/admin/security/auditlog/" not in html
    assert "/admin/messagelog/messagelog/" not in html
    assert 'name="unlock_account"' not in html and "Not locked" not in html
    assert page.context["inline_admin_formsets"] == []
