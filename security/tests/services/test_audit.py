import json

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.models import User
from accounts.services import users as user_services
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    LOGIN_URL,
    ME_URL,
    REGISTER_URL,
    admin_change_form,
    bearer,
    login,
)
from security.models import AuditLog, SecurityEvent
from security.services.audit import audit_record
from security.tests.helpers import audit_row, audit_rows


def test_registration_writes_an_audit_row_with_request_details(api_client, db):
    api_client.post(
        REGISTER_URL,
        {"email": "new@example.com", "username": "newbie", "password": "SecurePass123"},
        format="json",
        HTTP_USER_AGENT="curl/8",
        HTTP_X_REQUEST_ID="reg-1",
    )

    [entry] = audit_rows(action="user.register")
    user = User.objects.get(username="newbie")
    assert (entry.actor_id, entry.actor_kind, entry.target_id) == (user.pk, "user", str(user.pk))
    assert (entry.ip_address, entry.user_agent, entry.request_id) == (
        "127.0.0.1",
        "curl/8",
        "reg-1",
    )


def test_profile_update_records_before_and_after(api_client, user):
    user.first_name = "Old"
    user.save()
    auth = bearer(login(api_client, user.email)["access_token"])

    api_client.patch(ME_URL, {"first_name": "New", "hobbies": "chess"}, format="json", **auth)

    [entry] = audit_rows(action="user.profile_update")
    assert entry.changes == {
        "first_name": {"before": "Old", "after": "New"},
        "hobbies": {"before": "", "after": "chess"},
    }


def test_password_change_records_no_secret(api_client, user):
    tokens = login(api_client, user.email)
    api_client.post(
        "/api/v1/auth/change-password",
        {"current_password": "SecurePass123", "new_password": "BrandNewPass456"},
        format="json",
        **bearer(tokens["access_token"]),
    )

    [entry] = audit_rows(action="user.password_change")
    assert entry.changes == {"password": {"changed": True}}
    assert audit_row(action="session.revoke_all")


def test_every_state_change_of_a_session_is_audited(api_client, user):
    """But a routine refresh (the session's IP address and agent again): the session
    row keeps its time; a refresh from another agent is audited."""
    tokens = login(api_client, user.email)
    routine = api_client.post(
        "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json"
    )
    assert routine.status_code == 200
    moved = api_client.post(
        "/api/v1/auth/refresh",
        {"refresh_token": routine.json()["refresh_token"]},
        format="json",
        HTTP_USER_AGENT="another agent",
    )
    assert moved.status_code == 200
    fresh = login(api_client, user.email)
    api_client.post("/api/v1/auth/logout", **bearer(fresh["access_token"]))

    assert audit_row(action="session.revoke")
    actions = list(AuditLog.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["session.start", "session.refresh", "session.start", "session.revoke"]


def test_staff_status_change_is_audited_with_actor(db):
    admin = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory()

    user_services.user_status_set(user=user, status=User.Status.SUSPENDED, actor=admin)

    [entry] = audit_rows(action="user.status_change")
    assert (entry.actor_id, entry.actor_kind) == (admin.pk, "admin")
    assert entry.changes == {"status": {"before": "active", "after": "suspended"}}


def test_rolled_back_change_leaves_no_audit_row(db):
    user = UserFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        user_services.user_update_profile(user=user, actor=user, data={"first_name": "Ghost"})
        raise RuntimeError("abort after the write")

    assert not AuditLog.objects.filter(action="user.profile_update").exists()
    user.refresh_from_db()
    assert user.first_name != "Ghost"


def test_failed_password_change_leaves_no_audit_row(api_client, db):
    user = UserFactory()
    auth = bearer(login(api_client, user.username)["access_token"])

    response = api_client.post(
        "/api/v1/auth/change-password",
        {"current_password": "SecurePass123", "new_password": "weak"},
        format="json",
        **auth,
    )

    assert response.status_code == 400
    assert not AuditLog.objects.filter(action="user.password_change").exists()


def test_audit_rows_cannot_be_updated_in_the_database(db):
    entry = audit_record(action="test.event", actor=None)

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).update(action="tampered")

    assert audit_row(pk=entry.pk).action == "test.event"


def test_audit_rows_cannot_be_deleted_on_postgresql(db):
    entry = audit_record(action="test.event", actor=None)
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps DELETE open for Django's own flush; CI runs PostgreSQL")

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).delete()

    assert audit_row(pk=entry.pk)


def test_audit_trail_is_read_only_in_admin_and_api(client, api_client, db):
    admin = User.objects.create_superuser(
        username="boss", email="b@example.com", password="BossPass12345"
    )
    entry = audit_record(action="test.event", actor=None)
    client.force_login(admin)
    auth = bearer(login(api_client, "boss", "BossPass12345")["access_token"])

    assert client.get("/admin/security/auditlog/add/").status_code == 403
    assert client.post(f"/admin/security/auditlog/{entry.pk}/delete/").status_code == 403
    assert (
        api_client.post("/v1/admin-panel/audit-logs", {}, format="json", **auth).status_code == 405
    )
    assert api_client.get("/v1/admin-panel/audit-logs", **auth).status_code == 200
    assert audit_row(pk=entry.pk, action="test.event")


def test_admin_form_changes_are_audited(client, db):
    admin = User.objects.create_superuser(
        username="boss", email="b@example.com", password="BossPass12345"
    )
    user = UserFactory(name="Before Name")
    client.force_login(admin)
    data = admin_change_form(client, user, name="After Name")

    client.post(f"/admin/accounts/user/{user.pk}/change/", data)

    [entry] = audit_rows(action="admin.user.update")
    assert entry.changes["name"] == {"before": "Before Name", "after": "After Name"}
    assert entry.actor_label == "boss"


def test_nothing_in_audit_or_events_contains_a_secret(api_client, db):
    user = UserFactory(username="ada")
    tokens = login(api_client, "ada")
    api_client.post(LOGIN_URL, {"email": "ada", "password": "WrongSecret999"}, format="json")
    api_client.post(
        "/api/v1/auth/change-password",
        {"current_password": "SecurePass123", "new_password": "BrandNewPass456"},
        format="json",
        **bearer(tokens["access_token"]),
    )

    dumped = json.dumps(
        [
            list(AuditLog.objects.values()),
            list(SecurityEvent.objects.values()),
        ],
        default=str,
    )
    for secret in (
        "SecurePass123",
        "WrongSecret999",
        "BrandNewPass456",
        tokens["access_token"],
        tokens["refresh_token"],
        User.objects.get(pk=user.pk).password,
    ):
        assert secret not in dumped


def test_admin_changes_to_other_apps_are_audited(client, db):
    from axes.models import AccessAttempt

    admin = User.objects.create_superuser(
        username="boss", email="b@example.com", password="BossPass12345"
    )
    client.force_login(admin)
    attempt = AccessAttempt.objects.create(
        username="someone", ip_address="198.51.100.7", user_agent="test", failures_since_start=1
    )

    response = client.post(f"/admin/axes/accessattempt/{attempt.pk}/change/", {})

    assert response.status_code == 302
    [entry] = audit_rows(action="admin.accessattempt.update")
    assert (entry.target_type, entry.target_id, entry.actor_label) == (
        "axes.accessattempt",
        str(attempt.pk),
        "boss",
    )
