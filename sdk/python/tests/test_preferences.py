"""Preferences through `GET`/`PUT`/`PATCH /api/v1/users/me/preferences`.

The contract: GET answers the effective preferences document, PUT replaces it,
PATCH deep-merges into it. Staff merge another user's choices through
`PATCH /api/v1/users/{id}`; only the owner replaces the whole document.
"""

import pytest

from ai_marketplace.users import (
    AuthenticationError,
    KeyNotAccepted,
    UnsupportedOperation,
    UserClient,
    ValidationError,
)

from .conftest import PASSWORD
from .test_client import admin_client, developer

pytestmark = pytest.mark.live


def test_update_settings_deep_merges_into_the_preferences(sdk_service, organisation):
    client, me = developer(sdk_service, organisation)
    first = me.update_settings(
        theme="dark", notifications={"email": True, "slack": False}, language="en"
    )
    second = me.update_settings(notifications={"slack": True})
    read = me.get_preferences()
    client.close()

    assert (first["theme"], first["language"]) == ("dark", "en")
    assert first["notifications"]["email"] is True
    assert first["notifications"]["slack"] is False
    assert second["notifications"]["email"] is True  # kept: the merge is deep
    assert second["notifications"]["slack"] is True
    assert read == second


def test_set_preferences_replaces_the_whole_document(sdk_service, organisation):
    client, me = developer(sdk_service, organisation)
    me.update_settings(theme="dark", language="fr")
    replaced = me.set_preferences(
        {"theme": "light", "notifications": {"email": False, "slack": False}}
    )
    read = client.get_preferences()
    client.close()

    assert replaced["theme"] == "light"
    assert replaced["notifications"]["email"] is False
    assert replaced["notifications"]["slack"] is False
    assert replaced.get("language") != "fr"  # left out of the PUT: back to its default
    assert read == replaced


def test_preferences_of_the_client_and_of_me_are_one_document(sdk_service, organisation):
    client, me = developer(sdk_service, organisation)
    me.update_settings(theme="dark")

    assert client.get_preferences() == me.get_preferences()
    client.close()


def test_a_malformed_setting_is_a_validation_error_and_changes_nothing(sdk_service, organisation):
    client, me = developer(sdk_service, organisation)
    me.update_settings(theme="dark")
    with pytest.raises(ValidationError) as refused:
        me.update_settings(theme={"not": "a theme"})
    read = me.get_preferences()
    client.close()

    assert refused.value.status == 400
    assert read["theme"] == "dark"


def test_a_key_reads_preferences_and_only_a_login_session_changes_them(sdk_service, organisation):
    client, me = developer(sdk_service, organisation)
    me.update_settings(theme="dark")
    issued = me.generate_api_key("reads preferences")
    with UserClient(api_key=issued.api_key, base_url=sdk_service.url) as keyed:
        read = keyed.get_preferences()
        with pytest.raises(KeyNotAccepted) as refused:
            keyed.me().update_settings(theme="light")
    theme = me.get_preferences()["theme"]
    client.close()

    assert read["theme"] == "dark"
    assert isinstance(refused.value, AuthenticationError)
    assert refused.value.code == "API_KEY_NOT_ACCEPTED"
    assert theme == "dark"


def test_staff_read_and_merge_a_members_preferences_but_cannot_replace_them(
    sdk_service, organisation
):
    client, me = developer(sdk_service, organisation)
    me.update_settings(theme="dark")
    with admin_client(sdk_service, organisation) as admin:
        member = admin.get_user(me.id)
        read = member.get_preferences()
        merged = member.update_settings(notifications={"slack": True})
        with pytest.raises(UnsupportedOperation):
            member.set_preferences({"theme": "light"})
    effective = me.get_preferences()
    client.close()

    assert read["theme"] == "dark"
    assert merged == {"theme": "dark", "notifications": {"slack": True}}
    assert (effective["theme"], effective["notifications"]["slack"]) == ("dark", True)


def test_the_readme_quick_start(sdk_service, organisation):
    with admin_client(sdk_service, organisation) as admin:
        admin.create_role(name="developer", permissions=["read:models", "write:self"])
        admin.create_user(email="user@example.com", password=PASSWORD, role="developer")
    with UserClient.login(
        base_url=sdk_service.url, email="user@example.com", password=PASSWORD
    ) as client:
        user = client.me()
        settings = user.update_settings(
            theme="dark", notifications={"email": True, "slack": False}, language="en"
        )

    assert user.role == "developer"
    assert settings["notifications"]["slack"] is False
