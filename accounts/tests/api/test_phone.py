"""The phone number through HTTP: validated, stored in E.164, editable by its owner and
by staff, shown to both, exported, cleared by the purge."""

import pytest

from accounts.models import User
from accounts.tests.helpers import ME_URL, admin_change_form, assert_envelope
from security.tests.helpers import audit_row

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+1 (415) 555-2671", "+14155552671"),
        ("+44 20 7946 0958", "+442079460958"),
        (" +33 6 12 34 56 78 ", "+33612345678"),
        ("", ""),
    ],
)
def test_phone_is_normalised_to_e164(api_client, user, auth, typed, stored):
    response = api_client.patch(ME_URL, {"phone": typed}, format="json", **auth)

    assert response.status_code == 200, response.json()
    assert response.json()["phone"] == stored
    assert User.objects.get(pk=user.pk).phone == stored


@pytest.mark.parametrize(
    "typed",
    ["415 555 2671", "+1 555", "+999 123456", "call me", "+1 415 555 2671 " + "9" * 40],
)
def test_an_invalid_phone_is_400_naming_phone(api_client, user, auth, typed):
    response = api_client.patch(
        ME_URL, {"phone": typed, "name": "Not Written"}, format="json", **auth
    )

    body = assert_envelope(response, 400)
    assert body["error_code"] in ("INVALID_PHONE", "VALIDATION_ERROR")
    assert all(error.startswith("phone") for error in body["errors"])
    assert User.objects.get(pk=user.pk).name != "Not Written"  # nothing half-written


def test_an_invalid_phone_has_its_own_code(api_client, auth):
    response = api_client.patch(ME_URL, {"phone": "+1 555"}, format="json", **auth)

    assert_envelope(response, 400, "INVALID_PHONE")


def test_v1_profile_takes_and_shows_the_phone(api_client, user, auth):
    put = api_client.put("/v1/users/profile", {"phone": "+4915112345678"}, format="json", **auth)
    bad = api_client.put("/v1/users/profile", {"phone": "12"}, format="json", **auth)
    got = api_client.get("/v1/users/profile", **auth).json()

    assert put.status_code == 200 and put.json()["user"]["phone"] == "+4915112345678"
    assert_envelope(bad, 400, "INVALID_PHONE")
    assert got["user"]["phone"] == "+4915112345678"
    assert got["user"]["avatar_url"] is None
    row = audit_row(action="user.profile_update", target_id=str(user.pk))
    assert row.changes["phone"] == {"before": "", "after": "+4915112345678"}


def test_a_tenant_admin_sets_a_members_phone_and_sees_it(api_client, world):
    admin = world.auth("tenant_admin")
    url = f"/api/v1/users/{world.member.pk}"

    changed = api_client.patch(url, {"phone": "+1 650 253 0000"}, format="json", **admin)
    refused = api_client.patch(url, {"phone": "+1 000"}, format="json", **admin)
    shown = api_client.get(url, **admin)

    assert changed.status_code == 200 and changed.json()["phone"] == "+16502530000"
    assert_envelope(refused, 400, "INVALID_PHONE")
    assert shown.json()["phone"] == "+16502530000"


def test_another_tenants_admin_cannot_set_the_phone(api_client, world):
    response = api_client.patch(
        f"/api/v1/users/{world.member.pk}",
        {"phone": "+16502530000"},
        format="json",
        **world.auth("other_admin"),
    )

    assert response.status_code == 404
    assert User.objects.get(pk=world.member.pk).phone == ""


def test_the_admin_user_page_normalises_and_refuses_phones(admin_client, user):
    url = f"/admin/accounts/user/{user.pk}/change/"

    refused = admin_client.post(url, admin_change_form(admin_client, user, phone="12345"))
    saved = admin_client.post(url, admin_change_form(admin_client, user, phone="+1 415 555 2671"))

    assert refused.status_code == 200 and "phone" in refused.context["adminform"].form.errors
    assert saved.status_code == 302
    assert User.objects.get(pk=user.pk).phone == "+14155552671"


def test_the_personal_export_has_the_phone(api_client, user, auth):
    api_client.patch(ME_URL, {"phone": "+14155552671"}, format="json", **auth)

    export = api_client.get("/api/v1/users/me/export", **auth)

    assert export.json()["profile"]["phone"] == "+14155552671"
