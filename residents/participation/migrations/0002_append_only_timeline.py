"""Make the participation timeline and progress updates append-only in the database
(triggers refuse UPDATE and DELETE), like residents' history.

Note for later migrations: on SQLite, altering either table rebuilds it and
drops its triggers; such a migration must call add_triggers again.
"""

from django.db import migrations

TABLES = ("participation_event", "participation_projectupdate")


def _sql(vendor, table):
    if vendor == "postgresql":
        return [
            f"""
            CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{table} is append-only';
            END;
            $$ LANGUAGE plpgsql
            """,
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
            f"""
            CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only()
            """,
        ]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
            f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
            f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
        ]
    return []


def add_triggers(apps, schema_editor):
    for table in TABLES:
        for sql in _sql(schema_editor.connection.vendor, table):
            schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


class Migration(migrations.Migration):
    dependencies = [("participation", "0001_participation")]

    operations = [migrations.RunPython(add_triggers, drop_triggers)]
