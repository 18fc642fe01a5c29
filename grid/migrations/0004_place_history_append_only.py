"""Place history (grid_areaevent) is append-only in the database (issue #20), with one
exception: deleting a place sets its events' area to NULL (on_delete=SET_NULL, the
event keeps the place's name and code in its details), so an UPDATE that only
clears area_id is allowed. Every other UPDATE, and every DELETE, is refused.

Note for later migrations: on SQLite, altering grid_areaevent rebuilds the table
and drops the triggers; such a migration must call add_triggers again.
"""

from django.db import migrations

MESSAGE = "grid_areaevent is append-only"
# Only area_id went from a place to NULL; everything else is as it was.
LETTING_GO = """OLD.area_id IS NOT NULL AND NEW.area_id IS NULL AND NEW.id = OLD.id AND NEW.action = OLD.action
    AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id AND NEW.at = OLD.at AND NEW.details = OLD.details"""

ADD = {
    "postgresql": [
        f"""
        CREATE OR REPLACE FUNCTION grid_areaevent_append_only() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND {LETTING_GO} THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION '{MESSAGE}';
        END;
        $$ LANGUAGE plpgsql
        """,
        "DROP TRIGGER IF EXISTS grid_areaevent_no_change ON grid_areaevent",
        """
        CREATE TRIGGER grid_areaevent_no_change BEFORE UPDATE OR DELETE ON grid_areaevent
        FOR EACH ROW EXECUTE FUNCTION grid_areaevent_append_only()
        """,
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS grid_areaevent_no_update",
        "DROP TRIGGER IF EXISTS grid_areaevent_no_delete",
        f"""
        CREATE TRIGGER grid_areaevent_no_update BEFORE UPDATE ON grid_areaevent
        WHEN NOT ({LETTING_GO.replace("IS NOT DISTINCT FROM", "IS")})
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
        """,
        f"""
        CREATE TRIGGER grid_areaevent_no_delete BEFORE DELETE ON grid_areaevent
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
        """,
    ],
}
REMOVE = {
    "postgresql": ["DROP TRIGGER IF EXISTS grid_areaevent_no_change ON grid_areaevent",
                   "DROP FUNCTION IF EXISTS grid_areaevent_append_only()"],
    "sqlite": ["DROP TRIGGER IF EXISTS grid_areaevent_no_update", "DROP TRIGGER IF EXISTS grid_areaevent_no_delete"],
}


def add_triggers(apps, schema_editor):
    for sql in ADD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def remove_triggers(apps, schema_editor):
    for sql in REMOVE.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("grid", "0003_area_boundary_validated")]

    operations = [migrations.RunPython(add_triggers, remove_triggers)]
