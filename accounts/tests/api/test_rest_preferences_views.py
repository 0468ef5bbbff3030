"""/api/v1/users/me/preferences and its history, the tenant's default preferences, the
staff's bulk change, and the privacy the preferences give (email, profile)."""

import copy

import pytest

from accounts.models import PreferenceChange
from accounts.preferences import PLATFORM_DEFAULTS
from accounts.tests.helpers import ME_URL, assert_envelope
from accounts.tests.world import build_world
from security.models import AuditAction
from security.tests.helpers import audit_row, audit_rows
from support.tests.helpers import make_staff, staff_auth

URL = "/api/v1/users/me/preferences"
HISTORY_URL = "/api/v1/users/me/preferences/history"
BULK_URL = "/api/v1/users/preferences/bulk"


def _with(**changes) -> dict:
    """The platform defaults with top-level keys (or whole objects) replaced."""
    expected = copy.deepcopy(PLATFORM_DEFAULTS)
    for key, value in changes.items():
        if isinstance(value, dict):
            expected[key] = {**expected[key], **value}
        else:
            expected[key] = value
    return expected


@pytest.fixture
def world(db):
    return build_world()


def test_preferences_of_a_new_user_are_the_platform_defaults(api_client, db):
    registered = api_client.post(
        "/api/v1/auth/register",
        {"email": "new@example.com", "username": "newbie", "password": "SecurePass123"},
        format="json",
    )
    assert registered.status_code == 201, registered.content
    tokens = api_client.post(
        "/api/v1/auth/login",
        {"email": "new@example.com", "password": "SecurePass123"},
        format="json",
    ).json()

    response = api_client.get(URL, HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    assert response.status_code == 200
    assert response.json() == PLATFORM_DEFAULTS


def test_tenant_defaults_override_the_platform_and_the_users_choices_override_both(
    api_client, world
):
    admin_auth = world.auth("tenant_admin")
    changed = api_client.patch(
        f"/api/v1/tenants/{world.tenant_a.pk}",
        {
            "settings": {
                "default_preferences": {"theme": "dark", "notifications": {"digest": "off"}}
            }
        },
        format="json",
        **admin_auth,
    )
    assert changed.status_code == 200, changed.content
    member_auth = world.auth("user")

    assert api_client.get(URL, **member_auth).json() == _with(
        theme="dark", notifications={"digest": "off"}
    )
    api_client.patch(URL, {"theme": "light"}, format="json", **member_auth)
    assert api_client.get(URL, **member_auth).json() == _with(
        theme="light", notifications={"digest": "off"}
    )
    # Tenant B's members keep the platform defaults.
    assert api_client.get(URL, **world.auth("other_admin")).json() == PLATFORM_DEFAULTS


def test_a_change_of_the_tenant_defaults_reaches_signed_in_members_at_once(api_client, world):
    member_auth = world.auth("user")
    assert api_client.get(URL, **member_auth).json() == PLATFORM_DEFAULTS  # now cached

    changed = api_client.patch(
        f"/api/v1/tenants/{world.tenant_a.pk}",
        {"settings": {"default_preferences": {"theme": "dark", "language": "de"}}},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert changed.status_code == 200, changed.content
    assert api_client.get(URL, **member_auth).json() == _with(theme="dark", language="de")


def test_tenant_default_preferences_are_checked_with_the_same_schema(api_client, world):
    response = api_client.patch(
        f"/api/v1/tenants/{world.tenant_a.pk}",
        {"settings": {"default_preferences": {"theme": "neon", "colour": "red"}}},
        format="json",
        **world.auth("tenant_admin"),
    )

    body = assert_envelope(response, 400, "PREFERENCES_INVALID")
    assert body["fields"] == [
        "settings.default_preferences.colour",
        "settings.default_preferences.theme",
    ]
    world.tenant_a.refresh_from_db()
    assert "default_preferences" not in world.tenant_a.settings


def test_put_replaces_the_choices_and_omitted_keys_fall_back(api_client, world):
    auth = world.auth("user")
    api_client.put(URL, {"theme": "dark", "notifications": {"email": False}}, format="json", **auth)

    response = api_client.put(URL, {"language": "fr"}, format="json", **auth)

    assert response.status_code == 200
    assert response.json() == _with(language="fr")
    world.users["user"].refresh_from_db()
    assert world.users["user"].preferences == {"language": "fr"}


def test_patch_merges_object_by_object_and_null_resets_a_key(api_client, world):
    auth = world.auth("user")
    api_client.patch(
        URL,
        {"theme": "dark", "notifications": {"email": False, "digest": "daily"}},
        format="json",
        **auth,
    )

    response = api_client.patch(
        URL,
        {"notifications": {"slack": True, "digest": None}, "timezone": "Europe/Paris"},
        format="json",
        **auth,
    )

    assert response.status_code == 200
    assert response.json() == _with(
        theme="dark",
        timezone="Europe/Paris",
        notifications={"email": False, "slack": True},
    )
    world.users["user"].refresh_from_db()
    assert world.users["user"].preferences == {
        "theme": "dark",
        "timezone": "Europe/Paris",
        "notifications": {"email": False, "slack": True},
    }


@pytest.mark.parametrize("method", ["put", "patch"])
def test_every_bad_path_is_named_and_nothing_changes(api_client, world, method):
    auth = world.auth("user")
    body = {
        "theme": 123,
        "language": "xx",
        "timezone": "Mars/Olympus_Mons",
        "notifications": {"email": "yes", "pager": True},
        "privacy": {"profile_visibility": "everyone"},
        "integrations": {"slack": {"enabled": True, "token": "s3cret"}, "myspace": {}},
        "favourite_colour": "red",
    }

    response = getattr(api_client, method)(URL, body, format="json", **auth)

    error = assert_envelope(response, 400, "PREFERENCES_INVALID")
    assert error["fields"] == [
        "favourite_colour",
        "integrations.myspace",
        "integrations.slack.token",
        "language",
        "notifications.email",
        "notifications.pager",
        "privacy.profile_visibility",
        "theme",
        "timezone",
    ]
    assert any(line.startswith("notifications.email: ") for line in error["errors"])
    world.users["user"].refresh_from_db()
    assert world.users["user"].preferences == {}
    assert not PreferenceChange.objects.exists()


@pytest.mark.parametrize("body", [[], "dark", {"notifications": None}])
def test_a_document_of_the_wrong_shape_is_400_on_put(api_client, world, body):
    response = api_client.put(URL, body, format="json", **world.auth("user"))

    assert_envelope(response, 400)


def test_an_unknown_key_set_to_null_in_a_patch_is_still_unknown(api_client, world):
    response = api_client.patch(URL, {"colour": None}, format="json", **world.auth("user"))

    assert assert_envelope(response, 400, "PREFERENCES_INVALID")["fields"] == ["colour"]


def test_a_read_only_role_may_read_but_not_change_its_preferences(api_client, world):
    auth = world.auth("guest")

    assert api_client.get(URL, **auth).status_code == 200
    for method in ("put", "patch"):
        response = getattr(api_client, method)(URL, {"theme": "dark"}, format="json", **auth)
        assert_envelope(response, 403, "ROLE_READ_ONLY")
    response = api_client.patch(ME_URL, {"preferences": {"theme": "dark"}}, format="json", **auth)
    assert_envelope(response, 403, "ROLE_READ_ONLY")
    world.users["guest"].refresh_from_db()
    assert world.users["guest"].preferences == {}


def test_each_change_writes_a_history_row_and_an_audit_row(api_client, world):
    member = world.users["user"]
    auth = world.auth("user")
    api_client.patch(URL, {"theme": "dark"}, format="json", **auth)
    api_client.patch(URL, {"theme": "dark"}, format="json", **auth)  # no change, no row
    api_client.put(URL, {"language": "de"}, format="json", **auth)

    response = api_client.get(HISTORY_URL, **auth)

    assert response.status_code == 200
    body = response.json()
    assert body["pagination"]["total"] == 2
    newest, oldest = body["results"]
    assert (newest["before"], newest["after"]) == ({"theme": "dark"}, {"language": "de"})
    assert (oldest["before"], oldest["after"]) == ({}, {"theme": "dark"})
    assert newest["actor"] == {"id": member.pk, "username": member.username}
    assert newest["source"] == "self"
    row = audit_row(action=AuditAction.USER_PREFERENCES_UPDATE, target_id=str(member.pk))
    assert row.actor_id == member.pk
    assert row.changes["preferences"] == {"before": {"theme": "dark"}, "after": {"language": "de"}}


def test_history_is_the_callers_own_only(api_client, world):
    api_client.patch(URL, {"theme": "dark"}, format="json", **world.auth("tenant_admin"))

    response = api_client.get(HISTORY_URL, **world.auth("user"))

    assert response.json()["results"] == []


@pytest.mark.parametrize("url", [ME_URL, "/v1/users/profile"])
def test_the_profile_endpoints_check_preferences_with_the_same_rules(api_client, world, url):
    auth = world.auth("user")
    bad = {"name": "Changed Name", "preferences": {"theme": "neon", "notifications": {"x": 1}}}

    response = api_client.put(url, bad, format="json", **auth)

    body = assert_envelope(response, 400, "PREFERENCES_INVALID")
    assert body["fields"] == ["preferences.notifications.x", "preferences.theme"]
    world.users["user"].refresh_from_db()
    assert world.users["user"].name != "Changed Name"

    good = {"name": "Changed Name", "preferences": {"theme": "dark"}}
    assert api_client.put(url, good, format="json", **auth).status_code == 200
    assert api_client.get(URL, **auth).json()["theme"] == "dark"
    assert PreferenceChange.objects.get(user=world.users["user"]).source == "self"


def test_staff_changing_a_users_preferences_is_recorded_as_staff(api_client, world):
    member = world.member
    response = api_client.patch(
        f"/api/v1/users/{member.pk}",
        {"preferences": {"notifications": {"email": False}}},
        format="json",
        **world.auth("moderator"),
    )

    assert response.status_code == 200, response.content
    change = PreferenceChange.objects.get(user=member)
    assert (change.source, change.actor_id) == ("staff", world.users["moderator"].pk)
    assert change.after == {"notifications": {"email": False}}


# ----- bulk -------------------------------------------------------------------------


def test_bulk_change_by_filter_merges_into_every_selected_user(api_client, world):
    world.member.preferences = {"theme": "light"}
    world.member.save(update_fields=["preferences"])
    body = {
        "filter": {"tenant": world.tenant_a.pk, "role": "user"},
        "preferences": {"notifications": {"digest": "daily"}},
    }

    response = api_client.post(BULK_URL, body, format="json", **world.auth("platform_admin"))

    assert response.status_code == 200, response.content
    assert response.json() == {"success": True, "matched": 2, "updated": 2, "unchanged": 0}
    world.member.refresh_from_db()
    assert world.member.preferences == {"theme": "light", "notifications": {"digest": "daily"}}
    changes = PreferenceChange.objects.filter(source="bulk")
    assert sorted(changes.values_list("user_id", flat=True)) == sorted(
        [world.member.pk, world.users["user"].pk]
    )
    assert audit_row(action=AuditAction.USER_PREFERENCES_BULK_UPDATE).changes["updated"] == 2
    assert len(audit_rows(action=AuditAction.USER_PREFERENCES_UPDATE)) == 2


def test_bulk_change_with_an_invalid_value_writes_nothing(api_client, world):
    body = {"ids": [world.member.pk], "preferences": {"theme": "dark", "notifications": 5}}

    response = api_client.post(BULK_URL, body, format="json", **world.auth("tenant_admin"))

    assert assert_envelope(response, 400, "PREFERENCES_INVALID")["fields"] == [
        "preferences.notifications"
    ]
    world.member.refresh_from_db()
    assert world.member.preferences == {}
    assert not PreferenceChange.objects.exists()


def test_bulk_change_refuses_all_when_one_user_is_out_of_reach(api_client, world):
    # A moderator may not change their tenant's admin: the whole call is refused.
    ids = [world.member.pk, world.users["tenant_admin"].pk]
    body = {"ids": ids, "preferences": {"theme": "dark"}}

    response = api_client.post(BULK_URL, body, format="json", **world.auth("moderator"))

    body = assert_envelope(response, 400, "BULK_REFUSED")
    assert [item["id"] for item in body["items"]] == [world.users["tenant_admin"].pk]
    world.member.refresh_from_db()
    assert world.member.preferences == {}
    assert not PreferenceChange.objects.exists()


def test_bulk_change_never_reaches_another_tenants_users(api_client, world):
    auth = world.auth("tenant_admin")
    by_id = {"ids": [world.member.pk, world.other_member.pk], "preferences": {"theme": "dark"}}
    by_filter = {"filter": {"tenant": world.tenant_b.pk}, "preferences": {"theme": "dark"}}

    refused = api_client.post(BULK_URL, by_id, format="json", **auth)
    filtered = api_client.post(BULK_URL, by_filter, format="json", **auth)

    assert assert_envelope(refused, 400, "BULK_REFUSED")["items"] == [
        {"id": world.other_member.pk, "error": "Not found."}
    ]
    assert filtered.json() == {"success": True, "matched": 0, "updated": 0, "unchanged": 0}
    world.other_member.refresh_from_db()
    world.member.refresh_from_db()
    assert world.other_member.preferences == {} and world.member.preferences == {}


@pytest.mark.parametrize(
    "body",
    [
        {"preferences": {"theme": "dark"}},
        {"preferences": {"theme": "dark"}, "filter": {}},
        {"preferences": {"theme": "dark"}, "ids": [1], "filter": {"status": "active"}},
    ],
    ids=["no-selection", "empty-filter", "both"],
)
def test_bulk_change_needs_exactly_one_selection(api_client, world, body):
    response = api_client.post(BULK_URL, body, format="json", **world.auth("platform_admin"))

    assert_envelope(response, 400, "VALIDATION_ERROR")


# ----- privacy ----------------------------------------------------------------------


def _hide_email(user) -> None:
    user.preferences = {"privacy": {"show_email": False}}
    user.save(update_fields=["preferences"])


def test_a_hidden_email_is_null_for_moderators_but_shown_to_admins(api_client, world):
    _hide_email(world.member)
    url = f"/api/v1/users/{world.member.pk}"

    as_moderator = api_client.get(url, **world.auth("moderator")).json()
    as_tenant_admin = api_client.get(url, **world.auth("tenant_admin")).json()
    as_platform_admin = api_client.get(url, **world.auth("platform_admin")).json()
    listed = api_client.get("/api/v1/users", **world.auth("moderator")).json()["results"]

    assert as_moderator["email"] is None
    assert as_tenant_admin["email"] == world.member.email
    assert as_platform_admin["email"] == world.member.email
    by_id = {row["id"]: row["email"] for row in listed}
    assert by_id[world.member.pk] is None
    assert by_id[world.users["user"].pk] == world.users["user"].email


def test_a_hidden_email_cannot_be_found_by_searching_for_it(api_client, world):
    _hide_email(world.member)
    query = {"search": "member_a@example"}

    as_moderator = api_client.get("/api/v1/users", query, **world.auth("moderator")).json()
    as_admin = api_client.get("/api/v1/users", query, **world.auth("tenant_admin")).json()

    assert as_moderator["results"] == []
    assert [row["id"] for row in as_admin["results"]] == [world.member.pk]


def test_a_tenant_default_hides_the_email_of_members_who_did_not_choose(api_client, world):
    world.tenant_a.settings = {"default_preferences": {"privacy": {"show_email": False}}}
    world.tenant_a.save(update_fields=["settings"])
    world.users["user"].preferences = {"privacy": {"show_email": True}}
    world.users["user"].save(update_fields=["preferences"])

    listed = api_client.get("/api/v1/users", **world.auth("moderator")).json()["results"]
    found = api_client.get(
        "/api/v1/users", {"search": "@example.com"}, **world.auth("moderator")
    ).json()["results"]

    by_id = {row["id"]: row["email"] for row in listed}
    assert by_id[world.member.pk] is None
    assert by_id[world.users["user"].pk] == world.users["user"].email
    assert [row["id"] for row in found] == [world.users["user"].pk]


def test_support_staff_do_not_see_or_find_a_hidden_email(api_client, world):
    _hide_email(world.member)
    staff = make_staff("advanced", tenant=world.tenant_a)
    auth = staff_auth(staff)

    one = api_client.get(f"/v1/support/users/{world.member.pk}", **auth)
    found = api_client.get("/v1/support/users", {"search": "member_a@"}, **auth)

    assert one.status_code == 200, one.content
    assert one.json()["user"]["email"] is None
    assert found.json()["results"] == []


@pytest.mark.parametrize(
    ("visibility", "viewer", "visible"),
    [
        ("public", "other_admin", True),
        ("tenant", "other_admin", False),
        ("tenant", "guest", True),
        ("private", "user", False),
        ("private", "moderator", False),
        ("private", "tenant_admin", True),
        ("private", "platform_admin", True),
    ],
)
def test_profile_visibility_decides_who_sees_a_profile(
    api_client, world, visibility, viewer, visible
):
    world.member.preferences = {"privacy": {"profile_visibility": visibility}}
    world.member.save(update_fields=["preferences"])

    response = api_client.get(f"/api/v1/users/{world.member.pk}/profile", **world.auth(viewer))

    if visible:
        assert response.status_code == 200
        assert response.json()["username"] == world.member.username
    else:
        assert_envelope(response, 404)


def test_a_profile_shows_the_email_only_when_its_owner_allows(api_client, world):
    world.member.preferences = {"privacy": {"profile_visibility": "public"}}
    world.member.save(update_fields=["preferences"])
    url = f"/api/v1/users/{world.member.pk}/profile"

    shown = api_client.get(url, **world.auth("other_admin")).json()
    _hide_email(world.member)
    world.member.preferences = {"privacy": {"profile_visibility": "public", "show_email": False}}
    world.member.save(update_fields=["preferences"])
    hidden = api_client.get(url, **world.auth("other_admin")).json()

    assert shown["email"] == world.member.email
    assert hidden["email"] is None


def test_a_stored_value_that_no_longer_fits_is_left_out_of_the_effective_view(
    api_client, world, settings
):
    world.users["user"].preferences = {"language": "ja", "theme": "dark"}
    world.users["user"].save(update_fields=["preferences"])
    settings.PREFERENCE_LANGUAGES = ["en", "fr"]
    auth = world.auth("user")

    assert api_client.get(URL, **auth).json() == _with(theme="dark")
    # The next change drops it for good.
    api_client.patch(URL, {"timezone": "Asia/Tokyo"}, format="json", **auth)
    world.users["user"].refresh_from_db()
    assert world.users["user"].preferences == {"theme": "dark", "timezone": "Asia/Tokyo"}


def test_the_personal_export_holds_the_preference_history(api_client, world):
    auth = world.auth("user")
    assert api_client.patch(URL, {"theme": "dark"}, format="json", **auth).status_code == 200

    body = api_client.get("/api/v1/users/me/export", **auth).json()

    [change] = body["preference_history"]
    assert change["source"] == PreferenceChange.Source.SELF
    assert change["after"] == {"theme": "dark"} and change["before"] == {}
