"""Preferences on the admin site's user page, and the migration that made stored
preferences fit the declared schema."""

import json

import pytest

from accounts.models import PreferenceChange
from accounts.tests.helpers import admin_change_form
from core.tests.markers import postgresql_only
from security.tests.helpers import audit_row


def _post(client, user, preferences: str):
    url = f"/admin/accounts/user/{user.pk}/change/"
    return client.post(url, admin_change_form(client, user, preferences=preferences))


@pytest.mark.parametrize(
    ("preferences", "paths"),
    [
        (
            json.dumps({"theme": 123, "notifications": {"email": "yes"}}),
            ["notifications.email", "theme"],
        ),
        (json.dumps({"colour": "red"}), ["colour"]),
        ("[]", ["(document)"]),
    ],
    ids=["wrong-types", "unknown-key", "not-an-object"],
)
def test_the_admin_site_refuses_preferences_that_do_not_fit(admin_client, user, preferences, paths):
    response = _post(admin_client, user, preferences)

    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors["preferences"]
    assert [message.split(":")[0] for message in errors] == paths
    user.refresh_from_db()
    assert user.preferences == {}
    assert not PreferenceChange.objects.exists()


def test_the_admin_site_changes_preferences_with_a_history_row(admin_client, user):
    response = _post(admin_client, user, json.dumps({"theme": "dark"}))

    assert response.status_code == 302, (
        response.context and response.context["adminform"].form.errors
    )
    user.refresh_from_db()
    assert user.preferences == {"theme": "dark"}
    change = PreferenceChange.objects.get(user=user)
    assert (change.source, change.actor_id) == ("admin_site", admin_client.admin.pk)
    assert (change.before, change.after) == ({}, {"theme": "dark"})
    assert audit_row(action="user.preferences_update", target_id=str(user.pk)).actor_id == (
        admin_client.admin.pk
    )


def test_an_unchanged_stored_value_that_no_longer_fits_does_not_block_the_form(
    admin_client, user, settings
):
    user.preferences = {"language": "ja"}
    user.save(update_fields=["preferences"])
    settings.PREFERENCE_LANGUAGES = ["en"]

    response = _post(admin_client, user, json.dumps({"language": "ja"}))

    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.preferences == {"language": "ja"}


@postgresql_only
def test_migration_removes_what_does_not_fit_and_records_it(migrate_to):
    before = ("accounts", "0010_preference_history")
    after = ("accounts", "0011_preferences_fit_the_schema")
    OldUser = migrate_to([before]).get_model("accounts", "User")
    legacy = OldUser.objects.create(
        username="legacy",
        email="legacy@example.com",
        preferences={
            "theme": "dark",
            "notes": "x",
            "notifications": {"email": "yes", "slack": True},
        },
    )
    fitting = OldUser.objects.create(
        username="fitting", email="fitting@example.com", preferences={"theme": "light"}
    )

    apps = migrate_to([after])
    User, Change = (
        apps.get_model("accounts", "User"),
        apps.get_model("accounts", "PreferenceChange"),
    )
    assert User.objects.get(pk=legacy.pk).preferences == {
        "theme": "dark",
        "notifications": {"slack": True},
    }
    assert User.objects.get(pk=fitting.pk).preferences == {"theme": "light"}
    change = Change.objects.get(user_id=legacy.pk)
    assert (change.source, change.actor_id) == ("system", None)
    assert change.before["notes"] == "x"
    assert not Change.objects.filter(user_id=fitting.pk).exists()
