"""Ship the categories and the 2025–2026 calendar, and make the timeline immutable
in the database (a trigger refuses UPDATEs of case events).

Note for later migrations: on SQLite, altering cases_caseevent rebuilds the
table and drops the trigger; such a migration must run TRIGGER_SQL again.
"""

from django.db import migrations

TRIGGER_SQL = {
    "postgresql": [
        """
        CREATE OR REPLACE FUNCTION cases_caseevent_immutable() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'case timeline events are immutable';
        END;
        $$ LANGUAGE plpgsql
        """,
        "DROP TRIGGER IF EXISTS cases_caseevent_no_update ON cases_caseevent",
        """
        CREATE TRIGGER cases_caseevent_no_update BEFORE UPDATE ON cases_caseevent
        FOR EACH ROW EXECUTE FUNCTION cases_caseevent_immutable()
        """,
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS cases_caseevent_no_update",
        """
        CREATE TRIGGER cases_caseevent_no_update BEFORE UPDATE ON cases_caseevent
        BEGIN SELECT RAISE(ABORT, 'case timeline events are immutable'); END
        """,
    ],
}
DROP_SQL = {
    "postgresql": ["DROP TRIGGER IF EXISTS cases_caseevent_no_update ON cases_caseevent",
                   "DROP FUNCTION IF EXISTS cases_caseevent_immutable()"],
    "sqlite": ["DROP TRIGGER IF EXISTS cases_caseevent_no_update"],
}


def add_trigger(apps, schema_editor):
    for sql in TRIGGER_SQL.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def drop_trigger(apps, schema_editor):
    for sql in DROP_SQL.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def load(apps, schema_editor):
    from cases.seed import load_reference_data

    load_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [
        migrations.RunPython(add_trigger, drop_trigger),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
