"""/api/v1/users: the user administration of staff and tenant admins."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.authz.rules import can
from accounts.models import User
from accounts.selectors import USER_STATISTICS_CACHE_SECONDS
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope
from core.tests.markers import production_services_only
from security.tests.helpers import audit_row, audit_rows


def test_guest_cannot_write_even_itself(api_client, world):
    guest = world.users["guest"]

    assert not can(guest, "write:self", guest)
    response = api_client.patch(
        f"/api/v1/users/{guest.pk}", {"name": "New Name"}, format="json", **world.auth("guest")
    )
    assert_envelope(response, 403)


def test_list_is_scoped_to_the_callers_tenant(api_client, world):
    tenant_ids = {
        actor: {
            row["tenant_id"]
            for row in api_client.get("/api/v1/users", **world.auth(actor)).json()["results"]
        }
        for actor in ("moderator", "other_admin")
    }
    own = api_client.get("/api/v1/users", **world.auth("user")).json()["results"]

    assert tenant_ids == {"moderator": {world.tenant_a.pk}, "other_admin": {world.tenant_b.pk}}
    assert [row["id"] for row in own] == [world.users["user"].pk]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=member", ["member_a", "member_b"]),
        ("search=MOD_A", ["mod_a"]),
        ("status=suspended", ["susp"]),
        ("role=moderator", ["mod_a"]),
        ("plan=premium", ["member_b"]),
        ("ordering=-username&search=member", ["member_b", "member_a"]),
    ],
)
def test_search_filter_and_order(api_client, world, query, expected):
    UserFactory(username="susp", status=User.Status.SUSPENDED)
    User.objects.filter(pk=world.other_member.pk).update(subscription_plan="premium")

    response = api_client.get(
        f"/api/v1/users?{query}&ordering=username", **world.auth("platform_admin")
    )
    if "ordering=-username" in query:
        response = api_client.get(f"/api/v1/users?{query}", **world.auth("platform_admin"))

    assert [row["username"] for row in response.json()["results"]] == expected


def test_filter_by_tenant_and_created_range(api_client, world):
    old = UserFactory(username="oldie", tenant=world.tenant_b)
    User.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")

    response = api_client.get(
        "/api/v1/users",
        {"tenant": world.tenant_b.pk, "created_after": since},
        **world.auth("platform_admin"),
    )

    assert sorted(row["username"] for row in response.json()["results"]) == ["admin_b", "member_b"]


def test_pagination(api_client, world):
    response = api_client.get(
        "/api/v1/users?page=2&page_size=3&ordering=id", **world.auth("platform_admin")
    )

    assert response.json()["pagination"]["page"] == 2
    assert len(response.json()["results"]) == 3


@pytest.mark.parametrize(
    "query", ["status=gone", "ordering=password", "tenant=abc", "created_after=soon"]
)
def test_bad_list_parameters_are_400(api_client, world, query):
    assert_envelope(api_client.get(f"/api/v1/users?{query}", **world.auth("platform_admin")), 400)


def test_bulk_change_is_all_or_nothing(api_client, world):
    ids = [world.member.pk, world.users["tenant_admin"].pk]

    response = api_client.post(
        "/api/v1/users/bulk",
        {"ids": ids, "status": "suspended"},
        format="json",
        **world.auth("moderator"),
    )

    body = assert_envelope(response, 400, "BULK_REFUSED")
    assert [item["id"] for item in body["items"]] == [world.users["tenant_admin"].pk]
    assert set(User.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"active"}


def test_bulk_change_applies_to_every_item(api_client, world):
    ids = [world.member.pk, world.users["user"].pk]

    response = api_client.post(
        "/api/v1/users/bulk",
        {"ids": ids, "status": "suspended", "role": "guest"},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert response.json()["updated"] == ids
    assert set(User.objects.filter(pk__in=ids).values_list("status", "role__name")) == {
        ("suspended", "guest")
    }


def test_status_change_with_reason_is_audited(api_client, world):
    api_client.post(
        f"/api/v1/users/{world.member.pk}/status",
        {"status": "suspended", "reason": "spam"},
        format="json",
        **world.auth("moderator"),
    )

    [entry] = audit_rows(action="user.status_change")
    assert entry.changes["reason"] == "spam"
    assert audit_row(action="user.status_change", actor_label="mod_a")


def test_statistics_are_scoped_and_complete(api_client, world):
    User.objects.filter(pk=world.member.pk).update(status="suspended", is_verified=False)

    scoped = api_client.get("/api/v1/users/stats", **world.auth("tenant_admin")).json()
    everything = api_client.get("/api/v1/users/stats", **world.auth("platform_admin")).json()

    assert scoped["total"] == 5
    assert scoped["by_status"] == {"active": 4, "suspended": 1}
    assert scoped["by_role"] == {"admin": 1, "guest": 1, "moderator": 1, "user": 2}
    assert scoped["by_verified"] == {"False": 1, "True": 4}
    assert set(scoped["by_tenant"]) == {str(world.tenant_a.pk)}
    assert everything["total"] == 8
    assert sum(day["count"] for day in everything["signups_per_day"]) == 8


@production_services_only
def test_statistics_cost_does_not_grow_with_users(api_client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def user_queries() -> int:
        auth = world.auth("platform_admin")
        cache.delete_pattern("user-statistics:*")  # counted afresh each time
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get("/api/v1/users/stats", **auth).status_code == 200
        return sum('FROM "accounts_user"' in query["sql"] for query in queries.captured_queries)

    user_queries()  # warms the authentication cache
    few = user_queries()
    UserFactory.create_batch(40, tenant=world.tenant_a)

    assert user_queries() == few <= 8


@production_services_only
def test_statistics_are_kept_for_a_minute_per_scope(api_client, world):
    admin, tenant_admin = world.auth("platform_admin"), world.auth("tenant_admin")
    first = api_client.get("/api/v1/users/stats", **admin).json()
    scoped = api_client.get("/api/v1/users/stats", **tenant_admin).json()
    UserFactory(tenant=world.tenant_a)

    assert api_client.get("/api/v1/users/stats", **admin).json() == first
    assert api_client.get("/api/v1/users/stats", **tenant_admin).json() == scoped
    assert api_client.get("/api/v1/users/stats?since=2000-01-01", **admin).json()["total"] == (
        first["total"] + 1
    )
    assert 0 < cache.ttl("user-statistics:all:None:None") <= USER_STATISTICS_CACHE_SECONDS
