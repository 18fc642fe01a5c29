"""The case timeline refuses DELETE as well as UPDATE (issue #20): a deleted event
rewrites history as surely as an edited one.

Cases themselves protect their events (on_delete=PROTECT), so nothing in the
program deletes events; bench/cases_bench.py removes its own rows with triggers
switched off (session_replication_role = replica).

Note for later migrations: on SQLite, altering cases_caseevent rebuilds the
table and drops the triggers; such a migration must run add_triggers again.
"""

from django.db import migrations

MESSAGE = "case timeline events are immutable"

ADD = {
    "postgresql": [
        f"""
        CREATE OR REPLACE FUNCTION cases_caseevent_immutable() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE}';
        END;
        $$ LANGUAGE plpgsql
        """,
        "DROP TRIGGER IF EXISTS cases_caseevent_no_update ON cases_caseevent",
        "DROP TRIGGER IF EXISTS cases_caseevent_no_change ON cases_caseevent",
        """
        CREATE TRIGGER cases_caseevent_no_change BEFORE UPDATE OR DELETE ON cases_caseevent
        FOR EACH ROW EXECUTE FUNCTION cases_caseevent_immutable()
        """,
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS cases_caseevent_no_update",
        "DROP TRIGGER IF EXISTS cases_caseevent_no_delete",
        f"""
        CREATE TRIGGER cases_caseevent_no_update BEFORE UPDATE ON cases_caseevent
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
        """,
        f"""
        CREATE TRIGGER cases_caseevent_no_delete BEFORE DELETE ON cases_caseevent
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
        """,
    ],
}
# Back to 0002's trigger: UPDATE refused, DELETE allowed.
REMOVE = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS cases_caseevent_no_change ON cases_caseevent",
        """
        CREATE TRIGGER cases_caseevent_no_update BEFORE UPDATE ON cases_caseevent
        FOR EACH ROW EXECUTE FUNCTION cases_caseevent_immutable()
        """,
    ],
    "sqlite": ["DROP TRIGGER IF EXISTS cases_caseevent_no_delete"],
}


def add_triggers(apps, schema_editor):
    for sql in ADD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def remove_triggers(apps, schema_editor):
    for sql in REMOVE.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("cases", "0010_rollups_move_to_dashboards")]

    operations = [migrations.RunPython(add_triggers, remove_triggers)]
