"""On SQLite too, the points ledger refuses DELETE, not only UPDATE (issue #20).

PostgreSQL has refused both since 0002 (volunteers_*_no_change). Every foreign
key into the ledger is PROTECT, so nothing in the program deletes its rows.

Note for later migrations: on SQLite, altering these tables rebuilds them and
drops the triggers; such a migration must run add_triggers again (and 0002's).
"""

from django.db import migrations

MESSAGE = "the points ledger is append-only"
TABLES = {"volunteers_entry": "volunteers_entry_no_delete",
          "volunteers_ledgertransaction": "volunteers_transaction_no_delete"}


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table, trigger in TABLES.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        schema_editor.execute(f"CREATE TRIGGER {trigger} BEFORE DELETE ON {table} "
                              f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for trigger in TABLES.values():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0003_order_request_key")]

    operations = [migrations.RunPython(add_triggers, remove_triggers)]
