"""A change that takes rights away fails, and changes nothing, when Redis takes no writes.

Redis itself refuses the writes (`CLIENT PAUSE … WRITE` blocks them past the
client's socket timeout while reads go on), as in a network split seen by one
process: the default cache would ignore the error and every process would go on
trusting what it cached.
"""

from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.contrib.admin.models import DELETION, LogEntry

from accounts.models import LoginSession, User
from accounts.services.sessions import session_revoke
from accounts.services.users import user_status_set
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    ME_URL,
    REFRESH_URL,
    admin_change_form,
    assert_envelope,
    bearer,
    login,
)
from apikeys.models import APIKey
from apikeys.services import apikey_regenerate_primary, apikey_revoke
from core.cache_writes import CacheWriteFailed
from tenants.models import Tenant

COMPLETIONS = "/v1/prompt/completions"
PROMPT = {"level": "medium", "messages": [{"role": "user", "content": "Hello"}]}
PAUSE_MILLISECONDS = 20_000  # far past the cache's socket timeout; lifted when done

# CLIENT PAUSE stops every client of the server, whichever database it uses.
pytestmark = pytest.mark.redis_server_wide


@pytest.fixture
def writes_refused(db) -> Iterator[None]:
    if not settings.REDIS_URL:
        pytest.skip("the refusal comes from Redis: run with REDIS_URL (CI does)")
    server = redis.Redis.from_url(settings.REDIS_URL)

    def refuse() -> None:
        server.execute_command("CLIENT", "PAUSE", PAUSE_MILLISECONDS, "WRITE")

    try:
        yield refuse
    finally:
        server.execute_command("CLIENT", "UNPAUSE")
        server.close()


def use_key(api_client, key: str):
    return api_client.post(COMPLETIONS, PROMPT, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_a_revocation_the_cache_cannot_take_is_refused_and_the_key_stays_as_it_was(
    api_client, writes_refused
):
    owner = UserFactory()
    clear = apikey_regenerate_primary(user=owner, actor=owner).clear
    assert use_key(api_client, clear).status_code == 200  # its validity is cached now
    key = APIKey.objects.get(user=owner)

    writes_refused()
    with pytest.raises(CacheWriteFailed):
        apikey_revoke(key=key, actor=owner)

    assert APIKey.objects.get(pk=key.pk).revoked_at is None


def test_a_suspension_the_cache_cannot_take_is_refused(api_client, writes_refused):
    user = UserFactory()
    clear = apikey_regenerate_primary(user=user, actor=user).clear
    assert use_key(api_client, clear).status_code == 200  # the owner is cached now

    writes_refused()
    with pytest.raises(CacheWriteFailed):
        user_status_set(user=user, status=User.Status.SUSPENDED, actor=None)

    assert User.objects.get(pk=user.pk).status == User.Status.ACTIVE


def test_a_session_revocation_the_cache_cannot_take_is_refused(api_client, writes_refused):
    user = UserFactory()
    auth = bearer(login(api_client, user.email)["access_token"])
    assert api_client.get(ME_URL, **auth).status_code == 200
    session = LoginSession.objects.get(user=user)

    writes_refused()
    with pytest.raises(CacheWriteFailed):
        session_revoke(
            session_id=str(session.pk), reason=LoginSession.RevokeReason.LOGOUT, actor=None
        )

    assert LoginSession.objects.get(pk=session.pk).revoked_at is None


def test_the_refusal_reaches_the_client_as_a_503_in_the_envelope(api_client, writes_refused):
    owner = UserFactory()
    apikey_regenerate_primary(user=owner, actor=owner)
    auth = bearer(login(api_client, owner.email)["access_token"])
    key_id = APIKey.objects.get(user=owner).pk

    writes_refused()
    response = api_client.delete(f"/api/v1/api-keys/{key_id}", **auth)

    assert_envelope(response, 503, "CACHE_UNAVAILABLE")
    assert APIKey.objects.get(pk=key_id).revoked_at is None


def test_a_reused_refresh_token_still_ends_the_session_when_the_cache_refuses_writes(
    api_client, writes_refused
):
    user = UserFactory()
    first = login(api_client, user.email)
    assert (
        api_client.post(
            REFRESH_URL, {"refresh_token": first["refresh_token"]}, format="json"
        ).status_code
        == 200
    )

    writes_refused()
    replayed = api_client.post(
        REFRESH_URL, {"refresh_token": first["refresh_token"]}, format="json"
    )

    assert_envelope(replayed, 401, "REFRESH_TOKEN_REUSED")
    assert LoginSession.objects.get(user=user).revoked_at is not None


def test_a_password_set_in_the_admin_site_is_all_or_nothing_when_the_cache_refuses_writes(
    api_client, client, writes_refused
):
    staff = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory()
    login(api_client, user.email)
    client.force_login(staff)
    form = {
        "password1": "Fresh-Pass-4821",
        "password2": "Fresh-Pass-4821",
        "usable_password": "true",
    }

    writes_refused()
    response = client.post(f"/admin/accounts/user/{user.pk}/password/", form, follow=True)

    assert response.redirect_chain[0] == (f"/admin/accounts/user/{user.pk}/password/", 302)
    assert "Nothing changed" in response.content.decode()
    assert not User.objects.get(pk=user.pk).check_password("Fresh-Pass-4821")
    assert LoginSession.objects.filter(user=user, revoked_at__isnull=True).exists()


def refused_user_action(client, writes_refused, action: str, **fields) -> list[User]:
    """Two accounts and a superuser's admin action on both while Redis refuses writes;
    the action must come back to the list saying "Nothing changed"."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    users = [UserFactory(), UserFactory()]
    client.force_login(staff)

    writes_refused()
    response = client.post(
        "/admin/accounts/user/",
        {"action": action, "_selected_action": [user.pk for user in users], **fields},
        follow=True,
    )

    assert response.redirect_chain[0] == ("/admin/accounts/user/", 302)
    assert "Nothing changed" in response.content.decode()
    return users


def test_an_admin_action_the_cache_refuses_changes_no_account(client, writes_refused):
    users = refused_user_action(client, writes_refused, "suspend_users")

    assert set(
        User.objects.filter(pk__in=[u.pk for u in users]).values_list("status", flat=True)
    ) == {User.Status.ACTIVE}


def _change_form_data(client, url: str, **changes) -> dict:
    """What the admin's change form would post back, with `changes` made."""
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    return {**data, **changes}


def test_a_suspension_in_the_admin_change_form_the_cache_refuses_says_nothing_changed(
    api_client, client, writes_refused
):
    staff = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory()
    clear = apikey_regenerate_primary(user=user, actor=user).clear
    assert use_key(api_client, clear).status_code == 200  # the owner is cached now
    client.force_login(staff)
    url = f"/admin/accounts/user/{user.pk}/change/"
    data = admin_change_form(client, user, status=User.Status.SUSPENDED)

    writes_refused()
    response = client.post(url, data, follow=True)

    assert response.redirect_chain[0] == (url, 302)
    assert "Nothing changed" in response.content.decode()
    assert User.objects.get(pk=user.pk).status == User.Status.ACTIVE


def test_a_tenant_deactivation_in_the_admin_site_the_cache_refuses_says_nothing_changed(
    api_client, client, writes_refused
):
    staff = UserFactory(is_staff=True, is_superuser=True)
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    member = UserFactory(tenant=tenant)
    login(api_client, member.email)
    client.force_login(staff)
    url = f"/admin/tenants/tenant/{tenant.pk}/change/"
    data = _change_form_data(client, url, settings="{}", description="", domain="")
    data.pop("is_active")  # an unticked box is not posted

    writes_refused()
    response = client.post(url, data, follow=True)

    assert response.redirect_chain[0] == (url, 302)
    assert "Nothing changed" in response.content.decode()
    assert Tenant.objects.get(pk=tenant.pk).is_active is True
    assert LoginSession.objects.filter(user=member, revoked_at__isnull=True).exists()


def test_an_erase_the_cache_refuses_erases_nothing(api_client, client, writes_refused):
    """An erased account's live sessions must be revoked in the cache first; when it
    refuses, the account stays whole."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory()
    login(api_client, user.email)
    client.force_login(staff)

    writes_refused()
    response = client.post(
        "/admin/accounts/user/",
        {
            "action": "erase_users",
            "_selected_action": [user.pk],
            "erase_confirmed": "yes",
            "reason": "erasure request",
        },
        follow=True,
    )

    assert "Nothing changed" in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()
    assert LoginSession.objects.filter(user=user, revoked_at__isnull=True).count() == 1
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()


def test_a_session_revocation_in_the_admin_site_the_cache_refuses_ends_no_session(
    api_client, client, writes_refused
):
    staff = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory()
    sessions = [login(api_client, user.email)["session_id"] for _ in range(2)]
    client.force_login(staff)

    writes_refused()
    response = client.post(
        "/admin/accounts/loginsession/",
        {"action": "revoke_sessions", "_selected_action": sessions},
        follow=True,
    )

    assert response.redirect_chain[0] == ("/admin/accounts/loginsession/", 302)
    assert "Nothing changed" in response.content.decode()
    assert LoginSession.objects.filter(user=user, revoked_at__isnull=True).count() == 2
