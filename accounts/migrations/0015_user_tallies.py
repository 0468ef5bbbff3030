"""Running totals of the users, kept by the database itself (PostgreSQL only).

`accounts_user_tally` holds how many users share each status, role, tenant, plan and
verification; `accounts_user_signup_tally` how many were created on each UTC day, per
tenant. Triggers on `accounts_user` change them in the same transaction as the rows
(INSERT, DELETE, TRUNCATE, and an UPDATE of a counted column, whichever code or
SQL makes it), so the statistics read a few hundred rows instead of a million and
are as exact as a count. A missing role or tenant is stored as 0.

The totals are filled from the table in the same transaction that creates the
triggers: writes to the users wait for that count (a second or two at a million).
SQLite: nothing; the statistics count the table there.
"""

from django.db import migrations

CREATE = """
CREATE TABLE accounts_user_tally (
    status varchar(16) NOT NULL,
    role_id bigint NOT NULL,
    tenant_id bigint NOT NULL,
    subscription_plan varchar(50) NOT NULL,
    is_verified boolean NOT NULL,
    users bigint NOT NULL,
    PRIMARY KEY (tenant_id, status, role_id, subscription_plan, is_verified)
);
CREATE TABLE accounts_user_signup_tally (
    tenant_id bigint NOT NULL,
    day date NOT NULL,
    users bigint NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

CREATE FUNCTION accounts_user_tally_add(changes jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO accounts_user_tally AS tally
        (status, role_id, tenant_id, subscription_plan, is_verified, users)
    SELECT c.status, c.role_id, c.tenant_id, c.subscription_plan, c.is_verified, sum(c.users)
    FROM jsonb_to_recordset(changes) AS c(status varchar, role_id bigint, tenant_id bigint,
        subscription_plan varchar, is_verified boolean, users bigint, day date)
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 3, 1, 2, 4, 5
    ON CONFLICT (tenant_id, status, role_id, subscription_plan, is_verified)
    DO UPDATE SET users = tally.users + EXCLUDED.users;
    INSERT INTO accounts_user_signup_tally AS tally (tenant_id, day, users)
    SELECT c.tenant_id, c.day, sum(c.users)
    FROM jsonb_to_recordset(changes) AS c(tenant_id bigint, day date, users bigint)
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (tenant_id, day) DO UPDATE SET users = tally.users + EXCLUDED.users;
$$;

CREATE FUNCTION accounts_user_tally_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM accounts_user_tally_add((
            SELECT coalesce(jsonb_agg(c), '[]') FROM (
                SELECT status, coalesce(role_id, 0) AS role_id,
                    coalesce(tenant_id, 0) AS tenant_id, subscription_plan, is_verified,
                    (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS users
                FROM new_users GROUP BY 1, 2, 3, 4, 5, 6) AS c));
    ELSE
        PERFORM accounts_user_tally_add((
            SELECT coalesce(jsonb_agg(c), '[]') FROM (
                SELECT status, coalesce(role_id, 0) AS role_id,
                    coalesce(tenant_id, 0) AS tenant_id, subscription_plan, is_verified,
                    (created_at AT TIME ZONE 'UTC')::date AS day, -count(*) AS users
                FROM old_users GROUP BY 1, 2, 3, 4, 5, 6) AS c));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION accounts_user_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM accounts_user_tally_add(jsonb_build_array(
        jsonb_build_object('status', OLD.status, 'role_id', coalesce(OLD.role_id, 0),
            'tenant_id', coalesce(OLD.tenant_id, 0), 'subscription_plan',
            OLD.subscription_plan, 'is_verified', OLD.is_verified,
            'day', (OLD.created_at AT TIME ZONE 'UTC')::date, 'users', -1),
        jsonb_build_object('status', NEW.status, 'role_id', coalesce(NEW.role_id, 0),
            'tenant_id', coalesce(NEW.tenant_id, 0), 'subscription_plan',
            NEW.subscription_plan, 'is_verified', NEW.is_verified,
            'day', (NEW.created_at AT TIME ZONE 'UTC')::date, 'users', 1)));
    RETURN NULL;
END $$;

CREATE FUNCTION accounts_user_tally_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM accounts_user_tally;
    DELETE FROM accounts_user_signup_tally;
    RETURN NULL;
END $$;

CREATE TRIGGER accounts_user_tally_insert AFTER INSERT ON accounts_user
    REFERENCING NEW TABLE AS new_users
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_user_tally_rows();
CREATE TRIGGER accounts_user_tally_delete AFTER DELETE ON accounts_user
    REFERENCING OLD TABLE AS old_users
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_user_tally_rows();
CREATE TRIGGER accounts_user_tally_update
    AFTER UPDATE OF status, role_id, tenant_id, subscription_plan, is_verified, created_at
    ON accounts_user FOR EACH ROW
    WHEN ((OLD.status, OLD.role_id, OLD.tenant_id, OLD.subscription_plan, OLD.is_verified,
           OLD.created_at)
          IS DISTINCT FROM
          (NEW.status, NEW.role_id, NEW.tenant_id, NEW.subscription_plan, NEW.is_verified,
           NEW.created_at))
    EXECUTE FUNCTION accounts_user_tally_update();
CREATE TRIGGER accounts_user_tally_truncate AFTER TRUNCATE ON accounts_user
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_user_tally_truncate();

INSERT INTO accounts_user_tally
    (status, role_id, tenant_id, subscription_plan, is_verified, users)
SELECT status, coalesce(role_id, 0), coalesce(tenant_id, 0), subscription_plan, is_verified,
    count(*)
FROM accounts_user GROUP BY 1, 2, 3, 4, 5;
INSERT INTO accounts_user_signup_tally (tenant_id, day, users)
SELECT coalesce(tenant_id, 0), (created_at AT TIME ZONE 'UTC')::date, count(*)
FROM accounts_user GROUP BY 1, 2;
"""

DROP = """
DROP TRIGGER IF EXISTS accounts_user_tally_insert ON accounts_user;
DROP TRIGGER IF EXISTS accounts_user_tally_delete ON accounts_user;
DROP TRIGGER IF EXISTS accounts_user_tally_update ON accounts_user;
DROP TRIGGER IF EXISTS accounts_user_tally_truncate ON accounts_user;
DROP FUNCTION IF EXISTS accounts_user_tally_rows();
DROP FUNCTION IF EXISTS accounts_user_tally_update();
DROP FUNCTION IF EXISTS accounts_user_tally_truncate();
DROP FUNCTION IF EXISTS accounts_user_tally_add(jsonb);
DROP TABLE IF EXISTS accounts_user_tally;
DROP TABLE IF EXISTS accounts_user_signup_tally;
"""


def create_tallies(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_tallies(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_oauth_login_surface"),
    ]

    operations = [
        migrations.RunPython(create_tallies, drop_tallies),
    ]
