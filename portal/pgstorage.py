"""Per-table autovacuum settings, applied by migrations on PostgreSQL (a no-op elsewhere).

PostgreSQL vacuums a table once its dead rows pass 50 + 20 % of its rows
(`autovacuum_vacuum_scale_factor = 0.2`). For the case table of a city (2.1 M
rows) that is 420,000 dead rows: the escalation sweep's 100,000 updated cases
and the bench's rolled-back ones stay below it, and the dashboards read through
them (issue #24: 193k dead tuples doubled the city dashboard's time until a
VACUUM). The tables that change all day get thresholds in proportion to how they
churn; README "PostgreSQL for a city" says why each one.
"""

from django.db import migrations

PARAMETERS = (
    "autovacuum_vacuum_scale_factor", "autovacuum_vacuum_threshold",
    "autovacuum_analyze_scale_factor", "autovacuum_analyze_threshold",
    "autovacuum_vacuum_insert_scale_factor", "autovacuum_vacuum_insert_threshold",
)


def storage_sql(table, settings):
    unknown = set(settings) - set(PARAMETERS)
    if unknown:
        raise ValueError(f"not an autovacuum parameter: {sorted(unknown)}")
    values = ", ".join(f"{name} = {float(value) if 'scale' in name else int(value)}"
                       for name, value in settings.items())
    return f'ALTER TABLE "{table}" SET ({values})'


def reset_sql(table, settings):
    return f'ALTER TABLE "{table}" RESET ({", ".join(settings)})'


def autovacuum(tables):
    """A migration operation: `tables` is {table name: {parameter: value}}."""

    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for table, settings in tables.items():
                schema_editor.execute(storage_sql(table, settings))

    def revert(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for table, settings in tables.items():
                schema_editor.execute(reset_sql(table, settings))

    return migrations.RunPython(apply, revert, elidable=False)
