"""What staff did with a warning is history: the database refuses UPDATE and DELETE on the log.

On SQLite, a later migration that alters the table rebuilds it and drops the
triggers; it must call append_only.add again.
"""

from django.db import migrations

from portal import append_only

TABLES = ("risks_warningevent",)


def add_triggers(apps, schema_editor):
    append_only.add(schema_editor, TABLES)


def drop_triggers(apps, schema_editor):
    append_only.drop(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("risks", "0007_warning_assignment")]
    operations = [migrations.RunPython(add_triggers, drop_triggers)]
