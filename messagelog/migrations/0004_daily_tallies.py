"""Conversations and tokens per UTC day and model, kept by the database itself
(PostgreSQL only).

Triggers on the log change `messagelog_daily_tally` in the same transaction as the
rows (INSERT, DELETE, TRUNCATE, and an UPDATE of the time, model or tokens), so the
statistics of a month read some hundred rows instead of hundreds of thousands and
stay exact (late entries and the retention purge included). Each day and model has
up to eight `slot` rows, chosen by the writing connection, so concurrent writers of
the same day and model seldom wait on one row; a reader sums them.

The totals are filled from the log in the same transaction that creates the
triggers: writes to the log wait for that grouping (seconds at ten million rows).
SQLite: nothing; the statistics count the log there.
"""

from django.db import migrations

CREATE = """
CREATE TABLE messagelog_daily_tally (
    day date NOT NULL,
    model varchar(100) NOT NULL,
    slot smallint NOT NULL,
    conversations bigint NOT NULL,
    tokens_used bigint NOT NULL,
    PRIMARY KEY (day, model, slot)
);

CREATE FUNCTION messagelog_daily_tally_add(changes jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO messagelog_daily_tally AS tally (day, model, slot, conversations, tokens_used)
    SELECT c.day, c.model, pg_backend_pid() %% 8, sum(c.conversations), sum(c.tokens_used)
    FROM jsonb_to_recordset(changes) AS c(day date, model varchar, conversations bigint,
        tokens_used bigint)
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (day, model, slot) DO UPDATE SET
        conversations = tally.conversations + EXCLUDED.conversations,
        tokens_used = tally.tokens_used + EXCLUDED.tokens_used;
$$;

CREATE FUNCTION messagelog_daily_tally_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM messagelog_daily_tally_add((
            SELECT coalesce(jsonb_agg(c), '[]') FROM (
                SELECT ("timestamp" AT TIME ZONE 'UTC')::date AS day, model,
                    count(*) AS conversations, sum(tokens_used) AS tokens_used
                FROM new_rows GROUP BY 1, 2) AS c));
    ELSE
        PERFORM messagelog_daily_tally_add((
            SELECT coalesce(jsonb_agg(c), '[]') FROM (
                SELECT ("timestamp" AT TIME ZONE 'UTC')::date AS day, model,
                    -count(*) AS conversations, -sum(tokens_used) AS tokens_used
                FROM old_rows GROUP BY 1, 2) AS c));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION messagelog_daily_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM messagelog_daily_tally_add(jsonb_build_array(
        jsonb_build_object('day', (OLD."timestamp" AT TIME ZONE 'UTC')::date,
            'model', OLD.model, 'conversations', -1, 'tokens_used', -OLD.tokens_used),
        jsonb_build_object('day', (NEW."timestamp" AT TIME ZONE 'UTC')::date,
            'model', NEW.model, 'conversations', 1, 'tokens_used', NEW.tokens_used)));
    RETURN NULL;
END $$;

CREATE FUNCTION messagelog_daily_tally_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM messagelog_daily_tally;
    RETURN NULL;
END $$;

CREATE TRIGGER messagelog_daily_tally_insert AFTER INSERT ON messagelog_messagelog
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION messagelog_daily_tally_rows();
CREATE TRIGGER messagelog_daily_tally_delete AFTER DELETE ON messagelog_messagelog
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION messagelog_daily_tally_rows();
CREATE TRIGGER messagelog_daily_tally_update
    AFTER UPDATE OF "timestamp", model, tokens_used ON messagelog_messagelog FOR EACH ROW
    WHEN ((OLD."timestamp", OLD.model, OLD.tokens_used)
          IS DISTINCT FROM (NEW."timestamp", NEW.model, NEW.tokens_used))
    EXECUTE FUNCTION messagelog_daily_tally_update();
CREATE TRIGGER messagelog_daily_tally_truncate AFTER TRUNCATE ON messagelog_messagelog
    FOR EACH STATEMENT EXECUTE FUNCTION messagelog_daily_tally_truncate();

INSERT INTO messagelog_daily_tally (day, model, slot, conversations, tokens_used)
SELECT ("timestamp" AT TIME ZONE 'UTC')::date, model, 0, count(*), coalesce(sum(tokens_used), 0)
FROM messagelog_messagelog GROUP BY 1, 2;
"""

DROP = """
DROP TRIGGER IF EXISTS messagelog_daily_tally_insert ON messagelog_messagelog;
DROP TRIGGER IF EXISTS messagelog_daily_tally_delete ON messagelog_messagelog;
DROP TRIGGER IF EXISTS messagelog_daily_tally_update ON messagelog_messagelog;
DROP TRIGGER IF EXISTS messagelog_daily_tally_truncate ON messagelog_messagelog;
DROP FUNCTION IF EXISTS messagelog_daily_tally_rows();
DROP FUNCTION IF EXISTS messagelog_daily_tally_update();
DROP FUNCTION IF EXISTS messagelog_daily_tally_truncate();
DROP FUNCTION IF EXISTS messagelog_daily_tally_add(jsonb);
DROP TABLE IF EXISTS messagelog_daily_tally;
"""


def create_tallies(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_tallies(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("messagelog", "0003_time_brin_index_on_postgresql"),
    ]

    operations = [
        migrations.RunPython(create_tallies, drop_tallies),
    ]
