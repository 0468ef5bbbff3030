"""The admin page of API keys: listed and found without their secret, revoked through
the service (audited, dead at once), never created, edited or deleted here."""

from datetime import timedelta

from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope
from apikeys.models import APIKey
from apikeys.services import apikey_create
from apikeys.tests.helpers import use_key
from security.models import AuditAction
from security.tests.helpers import audit_row

KEYS = "/admin/apikeys/apikey/"


def test_list_shows_keys_masked_and_never_the_digest(admin_client, owner, key):
    stored = APIKey.objects.get(user=owner)

    listing = admin_client.get(KEYS).content.decode()
    detail = admin_client.get(f"{KEYS}{stored.pk}/change/").content.decode()

    assert stored.masked in listing and owner.username in listing
    for page in (listing, detail):
        assert stored.digest not in page and key not in page and key[3:] not in page


def test_search_by_user_name_and_prefix(admin_client, owner, key):
    other = apikey_create(user=UserFactory(username="zed"), name="ci runner", actor=owner)
    mine = APIKey.objects.get(user=owner)

    by_user = admin_client.get(KEYS, {"q": owner.username}).content.decode()
    by_name = admin_client.get(KEYS, {"q": "ci runner"}).content.decode()
    by_masked = admin_client.get(KEYS, {"q": mine.masked}).content.decode()

    assert mine.masked in by_user and other.key.masked not in by_user
    assert other.key.masked in by_name and mine.masked not in by_name
    assert mine.masked in by_masked and other.key.masked not in by_masked


def test_filters_by_revoked_and_expired(admin_client, owner, key):
    expired = apikey_create(user=owner, name="old", actor=owner).key
    APIKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    revoked = apikey_create(user=owner, name="gone", actor=owner).key
    APIKey.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())

    expired_page = admin_client.get(KEYS, {"expired": "yes"}).content.decode()
    revoked_page = admin_client.get(KEYS, {"revoked": "yes"}).content.decode()

    assert expired.masked in expired_page and revoked.masked not in expired_page
    assert revoked.masked in revoked_page and expired.masked not in revoked_page


def test_revoke_action_audits_and_the_key_dies_at_once(admin_client, api_client, owner, key):
    assert use_key(api_client, key).status_code == 200  # cached as valid
    stored = APIKey.objects.get(user=owner)

    response = admin_client.post(
        KEYS, {"action": "revoke_keys", "_selected_action": [stored.pk]}, follow=True
    )

    stored.refresh_from_db()
    assert response.status_code == 200 and "1 key(s) revoked" in response.content.decode()
    assert stored.revoked_at is not None
    assert audit_row(action=AuditAction.API_KEY_REVOKE, target_id=str(stored.pk)).actor_label == (
        "admin"
    )
    assert_envelope(use_key(api_client, key), 401)


def test_staff_without_rights_over_the_owner_revoke_nothing(client, api_client, owner, key):
    staffer = UserFactory(username="clerk", is_staff=True)
    staffer.user_permissions.set(
        Permission.objects.filter(codename__in=["view_apikey", "change_apikey"])
    )
    client.force_login(staffer)
    stored = APIKey.objects.get(user=owner)

    page = client.post(
        KEYS, {"action": "revoke_keys", "_selected_action": [stored.pk]}, follow=True
    )

    stored.refresh_from_db()
    assert stored.revoked_at is None and "Nothing changed" in page.content.decode()
    assert use_key(api_client, key).status_code == 200


def test_view_only_staff_have_no_revoke_action(client, owner, key):
    staffer = UserFactory(username="viewer", is_staff=True)
    staffer.user_permissions.set(Permission.objects.filter(codename="view_apikey"))
    client.force_login(staffer)
    stored = APIKey.objects.get(user=owner)

    page = client.get(KEYS)
    client.post(KEYS, {"action": "revoke_keys", "_selected_action": [stored.pk]})

    assert page.status_code == 200 and "revoke_keys" not in page.content.decode()
    stored.refresh_from_db()
    assert stored.revoked_at is None


def test_no_add_no_edit_no_delete(admin_client, owner, key):
    stored = APIKey.objects.get(user=owner)

    listing = admin_client.get(KEYS).content.decode()
    admin_client.post(f"{KEYS}{stored.pk}/change/", {"name": "renamed", "scopes": "[]"})

    assert admin_client.get(f"{KEYS}add/").status_code == 403
    assert "delete_selected" not in listing
    assert admin_client.post(f"{KEYS}{stored.pk}/delete/", {"post": "yes"}).status_code == 403
    stored.refresh_from_db()
    assert stored.name == "primary" and stored.revoked_at is None


def test_the_list_cannot_be_filtered_by_the_digest(admin_client, owner, key):
    # A filter on the digest in the address would read it out a character at a time.
    stored = APIKey.objects.get(user=owner)

    for lookup, value in (
        ("digest__startswith", stored.digest[:1]),
        ("digest", stored.digest),
        ("digest__gt", ""),
    ):
        page = admin_client.get(KEYS, {lookup: value})

        assert page.status_code == 400, lookup
        assert stored.masked not in page.content.decode()
