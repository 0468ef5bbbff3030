"""The Django admin site of accounts: login, pages, actions and forms."""

import pytest
from django.contrib.auth.models import Permission

from accounts.authz.roles import BuiltinRole
from accounts.models import LoginSession, User
from accounts.tests.factories import RoleFactory, UserFactory
from accounts.tests.helpers import (
    ME_URL,
    assert_envelope,
    bearer,
    login,
    password_step,
)
from accounts.tests.world import builtin
from security.models import AuditLog
from security.tests.helpers import audit_row


def test_staff_deletion_follows_the_same_path(client, api_client, user):
    admin = User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )
    client.force_login(admin)
    tokens = login(api_client, user.email)

    client.post(
        "/admin/accounts/user/", {"action": "delete_recoverably", "_selected_action": [user.pk]}
    )

    user.refresh_from_db()
    assert user.status == User.Status.DELETED and user.deleted_at is not None
    assert_envelope(api_client.get(ME_URL, **bearer(tokens["access_token"])), 401)
    assert audit_row(action="user.deleted", actor_label="boss")


def test_only_a_super_admin_deletes_from_the_admin(client, user):
    admin = User.objects.create_user(
        username="plainadmin", email="plain@example.com", password="BossPass12345", is_staff=True
    )
    admin.user_permissions.set(Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client.force_login(admin)

    page = client.post(
        "/admin/accounts/user/",
        {"action": "delete_recoverably", "_selected_action": [user.pk]},
        follow=True,
    )

    user.refresh_from_db()
    assert user.status == User.Status.ACTIVE
    assert "may not delete" in page.content.decode()
    assert not AuditLog.objects.filter(action="user.deleted").exists()


def test_a_platform_admin_works_the_console_by_role_alone(client, user):
    """No Django permission is given anywhere: the platform admin role is enough."""
    admin = UserFactory(
        username="roleadmin", is_staff=True, tenant=None, role=builtin(BuiltinRole.ADMIN)
    )
    client.force_login(admin)

    pages = [
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{user.pk}/change/",
        "/admin/credits/creditaccount/",
        "/admin/apikeys/apikey/",
        "/admin/messagelog/messagelog/",
    ]

    assert admin.user_permissions.count() == 0
    assert {page: client.get(page).status_code for page in pages} == dict.fromkeys(pages, 200)


def test_admin_require_mfa_refuses_staff_admin_without_otp(client, db, settings):
    settings.ADMIN_REQUIRE_MFA = True
    User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )

    page = client.get("/admin/login/")
    password_only = client.post("/admin/login/", {"username": "boss", "password": "BossPass12345"})
    client.force_login(User.objects.get(username="boss"))
    index = client.get("/admin/")

    assert "otp_token" in page.content.decode()
    assert password_only.status_code == 200  # the form is shown again, no login
    assert index.status_code == 302 and "/admin/login/" in index["Location"]


def test_admin_without_mfa_requirement_uses_password_login(client, db):
    assert "otp_token" not in client.get("/admin/login/").content.decode()


def test_admin_login_page_accepts_superuser(client, db):
    User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "BOSS", "password": "BossPass12345"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_admin_login_refuses_suspended_staff(client, db):
    UserFactory(username="staffer", is_staff=True, status=User.Status.SUSPENDED)

    response = client.post("/admin/login/", {"username": "staffer", "password": "SecurePass123"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/accounts/role/",
        "/admin/accounts/loginsession/",
        "/admin/tenants/tenant/",
    ],
)
def test_admin_pages_render(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_admin_user_change_page_renders(admin_client):
    user = UserFactory()

    assert admin_client.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 200


def test_admin_add_user_hashes_password_with_bcrypt(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "added",
            "email": "added@example.com",
            "password1": "AddedPass12345",
            "password2": "AddedPass12345",
            "role_name": "user",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    assert User.objects.get(username="added").password.startswith("bcrypt_sha256$")


def test_admin_suspend_action_ends_sessions(admin_client, api_client):
    victim = UserFactory()
    tokens = login(api_client, victim.email)

    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "suspend_users", "_selected_action": [victim.pk]},
    )

    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.status == User.Status.SUSPENDED
    assert api_client.get(ME_URL, **bearer(tokens["access_token"])).status_code == 401
    assert LoginSession.objects.get(pk=tokens["session_id"]).revoked_at is not None


def test_admin_revoke_session_action(admin_client, api_client, user):
    tokens = login(api_client, user.email)

    admin_client.post(
        "/admin/accounts/loginsession/",
        {"action": "revoke_sessions", "_selected_action": [tokens["session_id"]]},
    )

    assert api_client.get(ME_URL, **bearer(tokens["access_token"])).status_code == 401


def test_staff_setting_a_password_in_the_admin_site_ends_sessions_and_is_audited(
    api_client, client, db
):
    staff = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory()
    auth = bearer(login(api_client, user.email)["access_token"])
    client.force_login(staff)

    response = client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "Fresh-Pass-4821", "password2": "Fresh-Pass-4821", "usable_password": "true"},
    )

    assert response.status_code == 302, response.content[:400]
    assert User.objects.get(pk=user.pk).check_password("Fresh-Pass-4821")
    assert not LoginSession.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert api_client.get(ME_URL, **auth).status_code == 401
    assert audit_row(action="user.password_set_by_staff")


def test_staff_reset_of_mfa_is_audited(client, api_client, enrolled):
    from accounts.models import User

    user, _, _ = enrolled
    admin = User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )
    client.force_login(admin)

    client.post(
        "/admin/accounts/user/",
        {"action": "reset_mfa", "_selected_action": [user.pk]},
        REMOTE_ADDR="10.3.3.3",
    )

    assert "access_token" in password_step(api_client, user)
    assert audit_row(action="mfa.reset_by_staff", actor_label="boss")


def test_admin_bulk_role_action(client, world):
    client.force_login(world.users["platform_admin"])

    client.post(
        "/admin/accounts/user/",
        {"action": "make_moderators", "_selected_action": [world.member.pk]},
    )

    assert User.objects.get(pk=world.member.pk).role.name == "moderator"


# ----- the tenant and role filters of the user list ------------------------------------


@pytest.fixture
def two_tenants(db):
    from tenants.models import Tenant

    acme = Tenant.objects.create(name="Acme", slug="acme")
    globex = Tenant.objects.create(name="Globex", slug="globex")
    UserFactory(username="ann", tenant=acme, role=builtin("moderator"))
    UserFactory(username="abe", tenant=acme, role=builtin("user"))
    UserFactory(username="gus", tenant=globex, role=builtin("moderator"))
    return acme, globex


def _listed(response) -> set[str]:
    assert response.status_code == 200
    return {user.username for user in response.context["cl"].result_list}


def test_the_user_list_filters_by_a_typed_tenant_slug(admin_client, two_tenants):
    response = admin_client.get("/admin/accounts/user/", {"tenant__slug": "acme"})

    assert _listed(response) == {"ann", "abe"}


def test_the_user_list_filters_by_a_typed_role_name_and_tenant_together(admin_client, two_tenants):
    by_role = admin_client.get("/admin/accounts/user/", {"role__name": "moderator"})
    both = admin_client.get(
        "/admin/accounts/user/", {"role__name": "moderator", "tenant__slug": "globex"}
    )
    nobody = admin_client.get("/admin/accounts/user/", {"tenant__slug": "no-such-tenant"})

    assert _listed(by_role) >= {"ann", "gus"} and "abe" not in _listed(by_role)
    assert _listed(both) == {"gus"}
    assert _listed(nobody) == set()


def test_the_filter_sidebar_lists_no_tenant_or_role_and_keeps_the_other_parameters(
    admin_client, two_tenants
):
    page = admin_client.get(
        "/admin/accounts/user/", {"q": "a", "status__exact": "active", "tenant__slug": "acme"}
    ).content.decode()

    assert "tenant__id__exact" not in page and "role__id__exact" not in page
    assert "Globex" not in page
    assert '<input type="search" name="tenant__slug" value="acme"' in page
    assert '<input type="hidden" name="q" value="a">' in page
    assert '<input type="hidden" name="status__exact" value="active">' in page
    assert page.count('name="tenant__slug" value="acme"') == 3  # its box, the role and search forms


def test_the_role_list_filters_by_a_typed_tenant_slug(admin_client, two_tenants):
    acme, globex = two_tenants
    RoleFactory(name="developer", tenant=acme)
    RoleFactory(name="analyst", tenant=globex)

    response = admin_client.get("/admin/accounts/role/", {"tenant__slug": "acme"})

    assert {role.name for role in response.context["cl"].result_list} == {"developer"}
