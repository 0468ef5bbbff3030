"""Data migrations of accounts."""

import pytest


@pytest.mark.django_db(transaction=True)
def test_migration_takes_deleter_and_prior_status_from_the_audit_trail():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        ("accounts", "0003_mfa_deletion_lifecycle"),
        (
            "accounts",
            "0004_deletion_owner_and_prior_status",
        ),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before, ("security", "0002_audit_log_append_only")]).apps
    OldUser, OldAuditLog = old.get_model("accounts", "User"), old.get_model("security", "AuditLog")
    owner = OldUser.objects.create(username="selfdel", email="s@example.com", status="deleted")
    victim = OldUser.objects.create(username="staffdel", email="v@example.com", status="deleted")
    staff = OldUser.objects.create(username="staffer", email="st@example.com")
    for target, actor in ((owner, owner), (victim, staff)):
        OldAuditLog.objects.create(
            action="user.deleted",
            actor_id=actor.pk,
            actor_kind="user",
            target_type="accounts.user",
            target_id=str(target.pk),
            changes={"status": {"before": "pending", "after": "deleted"}},
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([after])
    migrated = executor.loader.project_state([after]).apps.get_model("accounts", "User")
    owner_row, victim_row = (migrated.objects.get(pk=pk) for pk in (owner.pk, victim.pk))

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert (owner_row.deleted_by_id, owner_row.status_before_deletion) == (owner.pk, "pending")
    assert victim_row.deleted_by_id == staff.pk
