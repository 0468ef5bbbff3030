"""Plans, plan changes, the billing email and the avatar through the SDK."""

import io

import pytest

from ai_marketplace.users import (
    Billing,
    PermissionDenied,
    Plan,
    UserClient,
    ValidationError,
)

from .conftest import PASSWORD
from .test_client import admin_client

pytestmark = pytest.mark.live

BUILT_IN_PLANS = ["free", "basic", "premium", "enterprise"]


def png_bytes(size=(40, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_plans_are_the_active_plans_in_order(sdk_service, organisation):
    with admin_client(sdk_service, organisation) as client:
        plans = client.plans()

    codes = [plan.code for plan in plans]
    assert all(isinstance(plan, Plan) and plan.is_active for plan in plans)
    assert [code for code in codes if code in BUILT_IN_PLANS] == BUILT_IN_PLANS
    premium = next(plan for plan in plans if plan.code == "premium")
    assert (premium.main_reset, premium.conversation_reset) == (200, 500)


def test_a_tenant_admin_changes_a_members_plan_and_the_member_reads_it(sdk_service, organisation):
    with admin_client(sdk_service, organisation) as admin:
        member = admin.create_user(email="member@acme.example", password=PASSWORD)
        changed = member.change_plan("premium", reason="Signed the premium contract")
        read_by_admin = member.billing()
        fetched = admin.get_user(member.id)
        with pytest.raises(ValidationError) as unknown:
            member.change_plan("platinum")
        with pytest.raises(PermissionDenied) as own_plan:
            admin.me().change_plan("enterprise")
    with UserClient.login(
        base_url=sdk_service.url, email="member@acme.example", password=PASSWORD
    ) as own:
        read_by_member = own.billing()
        with pytest.raises(PermissionDenied):
            own.me().change_plan("enterprise")

    assert isinstance(changed, Billing)
    assert (changed.user_id, changed.plan.code) == (member.id, "premium")
    latest = changed.plan_history[0]
    assert (latest.from_plan, latest.to_plan) == ("free", "premium")
    assert latest.reason == "Signed the premium contract"
    assert latest.actor_id == organisation.admin.pk
    assert member.subscription_plan == "premium"
    assert fetched.subscription_plan == "premium"
    assert read_by_admin.plan == changed.plan
    assert read_by_member.plan.code == "premium"
    assert unknown.value.code == "UNKNOWN_PLAN"
    assert own_plan.value.status == 403


def test_the_billing_email_is_set_and_cleared_by_its_owner(sdk_service, organisation):
    with admin_client(sdk_service, organisation) as client:
        set_to = client.set_billing_email("invoices@acme.example")
        read = client.billing()
        with pytest.raises(ValidationError) as malformed:
            client.set_billing_email("not an address")
        cleared = client.set_billing_email("")

    assert set_to.billing_email == "invoices@acme.example"
    assert read.billing_email == "invoices@acme.example"
    assert malformed.value.status == 400
    assert cleared.billing_email == ""


def test_the_avatar_is_uploaded_from_bytes_or_a_path_and_removed(
    sdk_service, organisation, tmp_path
):
    image = tmp_path / "me.png"
    image.write_bytes(png_bytes((64, 64)))

    with admin_client(sdk_service, organisation) as client:
        from_bytes = client.set_avatar(png_bytes())
        from_path = client.set_avatar(image)
        with pytest.raises(ValidationError) as not_an_image:
            client.set_avatar(b"plain text, not a picture")
        removed = client.remove_avatar()

    assert from_bytes.avatar_url and from_bytes.avatar_url.endswith(".webp")
    assert from_path.avatar_url and from_path.avatar_url != from_bytes.avatar_url
    assert not_an_image.value.code == "AVATAR_UNSUPPORTED_TYPE"
    assert removed.avatar_url is None
