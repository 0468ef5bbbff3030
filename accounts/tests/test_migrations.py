"""Data migrations of accounts."""

from core.tests.markers import postgresql_only

# The migrations it passes through add PostgreSQL extensions (pg_trgm).
pytestmark = postgresql_only


def test_migration_takes_deleter_and_prior_status_from_the_audit_trail(migrate_to):
    before, after = (
        ("accounts", "0003_mfa_deletion_lifecycle"),
        (
            "accounts",
            "0004_deletion_owner_and_prior_status",
        ),
    )
    old = migrate_to([before], state_of=[before, ("security", "0002_audit_log_append_only")])
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

    migrated = migrate_to([after]).get_model("accounts", "User")
    owner_row, victim_row = (migrated.objects.get(pk=pk) for pk in (owner.pk, victim.pk))

    assert (owner_row.deleted_by_id, owner_row.status_before_deletion) == (owner.pk, "pending")
    assert victim_row.deleted_by_id == staff.pk
