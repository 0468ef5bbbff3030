"""`preferences` are limited in depth and size, on every route that writes them."""

import json

import pytest

from accounts.preferences import MAX_BYTES, MAX_DEPTH, MAX_KEYS
from accounts.tests.helpers import ME_URL, assert_envelope

PROFILE_URL = "/v1/users/profile"


def _nested(depth: int) -> dict:
    """An object `depth` levels deep, counting itself."""
    value: dict = {}
    for _ in range(depth - 1):
        value = {"x": value}
    return value


@pytest.mark.parametrize("url", [ME_URL, PROFILE_URL])
def test_preferences_as_deep_as_allowed_are_stored(api_client, user, auth, url):
    response = api_client.put(url, {"preferences": _nested(MAX_DEPTH)}, format="json", **auth)

    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert user.preferences == _nested(MAX_DEPTH)


@pytest.mark.parametrize("url", [ME_URL, PROFILE_URL])
def test_preferences_nested_too_deep_are_400_and_nothing_changes(api_client, user, auth, url):
    body = {"name": "Changed Name", "preferences": _nested(MAX_DEPTH + 1)}

    response = api_client.put(url, body, format="json", **auth)

    assert_envelope(response, 400, "PREFERENCES_TOO_DEEP")
    user.refresh_from_db()
    assert user.preferences == {}
    assert user.name != "Changed Name"


@pytest.mark.parametrize("url", [ME_URL, PROFILE_URL])
def test_preferences_over_the_size_limit_are_400(api_client, user, auth, url):
    body = {"preferences": {"notes": "x" * MAX_BYTES}}

    response = api_client.put(url, body, format="json", **auth)

    assert_envelope(response, 400, "PREFERENCES_TOO_LARGE")
    user.refresh_from_db()
    assert user.preferences == {}


def test_more_preference_keys_than_allowed_are_400(api_client, user, auth):
    body = {"preferences": {f"k{i}": i for i in range(MAX_KEYS + 1)}}

    response = api_client.patch(ME_URL, body, format="json", **auth)

    error = assert_envelope(response, 400, "PREFERENCES_TOO_LARGE")
    assert error["errors"][0].startswith("preferences:")


def test_the_limit_holds_for_preferences_merged_over_several_requests(api_client, user, auth):
    chunk = "x" * (MAX_BYTES // 3)
    for key in ("a", "b"):
        response = api_client.put(ME_URL, {"preferences": {key: chunk}}, format="json", **auth)
        assert response.status_code == 200

    response = api_client.put(ME_URL, {"preferences": {"c": chunk + "yy"}}, format="json", **auth)

    assert_envelope(response, 400, "PREFERENCES_TOO_LARGE")
    user.refresh_from_db()
    assert set(user.preferences) == {"a", "b"}
    assert len(json.dumps(user.preferences)) <= MAX_BYTES


def _change_form_data(client, url: str) -> dict:
    """The admin change form's fields as the page shows them, ready to post back."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        elif value is None or value is False:
            continue
        else:
            data[name] = "on" if value is True else str(value)
    return data


@pytest.mark.parametrize(
    ("preferences", "problem"),
    [
        (json.dumps(_nested(MAX_DEPTH + 1)), "nested"),
        ("[" * 1000 + "]" * 1000, "nested"),
        (json.dumps({"notes": "x" * MAX_BYTES}), "bytes"),
    ],
    ids=["too-deep", "a-thousand-deep", "too-large"],
)
def test_the_admin_site_refuses_preferences_over_the_limits(client, user, preferences, problem):
    from accounts.models import User

    admin = User.objects.create_superuser(
        username="boss", email="boss@example.com", password="BossPass12345"
    )
    client.force_login(admin)
    url = f"/admin/accounts/user/{user.pk}/change/"
    data = {**_change_form_data(client, url), "preferences": preferences}

    response = client.post(url, data)

    assert response.status_code == 200  # the form again, with its errors
    assert problem in str(response.context["adminform"].form.errors["preferences"])
    user.refresh_from_db()
    assert user.preferences == {}
