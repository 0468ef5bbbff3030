"""Make the audit table append-only in the database itself.

PostgreSQL refuses UPDATE and DELETE on every row (TRUNCATE, an owner's
operation, stays possible). SQLite refuses UPDATE; its DELETE stays open because
Django's own table flush uses it; no application path deletes audit rows.
"""

from django.db import migrations

_PG_FORWARD = """
CREATE OR REPLACE FUNCTION security_auditlog_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'security_auditlog is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER security_auditlog_append_only
    BEFORE UPDATE OR DELETE ON security_auditlog
    FOR EACH ROW EXECUTE FUNCTION security_auditlog_refuse_change();
"""
_PG_REVERSE = """
DROP TRIGGER IF EXISTS security_auditlog_append_only ON security_auditlog;
DROP FUNCTION IF EXISTS security_auditlog_refuse_change();
"""
_SQLITE_FORWARD = """
CREATE TRIGGER security_auditlog_append_only
BEFORE UPDATE ON security_auditlog
BEGIN
    SELECT RAISE(ABORT, 'security_auditlog is append-only (UPDATE refused)');
END;
"""
_SQLITE_REVERSE = "DROP TRIGGER IF EXISTS security_auditlog_append_only;"


def _run(schema_editor, statements: dict[str, str]) -> None:
    sql = statements.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql, params=None)


def forward(apps, schema_editor):
    _run(schema_editor, {"postgresql": _PG_FORWARD, "sqlite": _SQLITE_FORWARD})


def reverse(apps, schema_editor):
    _run(schema_editor, {"postgresql": _PG_REVERSE, "sqlite": _SQLITE_REVERSE})


class Migration(migrations.Migration):
    dependencies = [("security", "0001_initial")]

    operations = [migrations.RunPython(forward, reverse)]
