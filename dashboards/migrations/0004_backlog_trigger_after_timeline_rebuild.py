"""cases 0020 and 0021 rebuilt cases_caseevent on SQLite (a new action constraint), which drops
the rollup-backlog trigger: make it again there (PostgreSQL keeps its triggers)."""

import importlib

from django.db import migrations

_backlog = importlib.import_module("dashboards.migrations.0002_rollup_backlog")


def sqlite_trigger_again(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in _backlog.TRIGGER_SQL["sqlite"]:
            schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("dashboards", "0003_rollups_follow_standard_definitions"),
        ("cases", "0021_organisation_routing"),
    ]

    operations = [migrations.RunPython(sqlite_trigger_again, migrations.RunPython.noop)]
