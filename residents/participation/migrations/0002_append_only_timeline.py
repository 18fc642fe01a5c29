"""Make the participation timeline and progress updates append-only in the database
(triggers refuse UPDATE and DELETE), like residents' history.

Note for later migrations: on SQLite, altering either table rebuilds it and
drops its triggers; such a migration must call add_triggers again.
"""

from django.db import migrations

from portal import append_only

TABLES = ("participation_event", "participation_projectupdate")


def add_triggers(apps, schema_editor):
    append_only.add(schema_editor, TABLES)


def drop_triggers(apps, schema_editor):
    append_only.drop(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("participation", "0001_participation")]

    operations = [migrations.RunPython(add_triggers, drop_triggers)]
