"""Risk assessments are history: the database refuses UPDATE and DELETE on them.

On SQLite, a later migration that alters the table rebuilds it and drops the
triggers; it must call append_only.add again.
"""

from django.db import migrations

from portal import append_only

TABLES = ("risks_riskassessment",)


def add_triggers(apps, schema_editor):
    append_only.add(schema_editor, TABLES)


def drop_triggers(apps, schema_editor):
    append_only.drop(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("risks", "0001_risk_register_and_patrols")]
    operations = [migrations.RunPython(add_triggers, drop_triggers)]
