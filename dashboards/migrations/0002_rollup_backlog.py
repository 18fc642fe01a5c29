"""The rollup backlog: a trigger on the timeline lists, in each writer's own
transaction, the cases whose buckets need recomputing (issue #25: a watermark on
event ids skipped a sweep batch that committed after a refresh had read past it).

The trigger is created before the backlog is seeded, in this migration's
transaction: on PostgreSQL CREATE TRIGGER waits for every transaction still
inserting timeline rows and holds new ones off until the migration commits, so
each event either committed before the seed (and is seeded) or fires the trigger.
The seed is what the last watermark had not yet read, with the old overlap.

Note for later migrations: on SQLite, altering cases_caseevent rebuilds the
table and drops its triggers; such a migration must run TRIGGER_SQL again
(tests/test_dashboard_rollups.py checks that the trigger fires).
"""

from django.db import migrations, models

TRIGGER_SQL = {
    "postgresql": [
        """
        CREATE OR REPLACE FUNCTION dashboards_rollup_backlog_add() RETURNS trigger AS $$
        BEGIN
            INSERT INTO dashboards_rollupbacklog (case_id) SELECT DISTINCT case_id FROM new_events;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """,
        "DROP TRIGGER IF EXISTS dashboards_rollup_backlog ON cases_caseevent",
        # Once per statement: a sweep batch's 2,000 timeline rows cost one INSERT … SELECT.
        """
        CREATE TRIGGER dashboards_rollup_backlog AFTER INSERT ON cases_caseevent
        REFERENCING NEW TABLE AS new_events
        FOR EACH STATEMENT EXECUTE FUNCTION dashboards_rollup_backlog_add()
        """,
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS dashboards_rollup_backlog",
        """
        CREATE TRIGGER dashboards_rollup_backlog AFTER INSERT ON cases_caseevent
        BEGIN INSERT INTO dashboards_rollupbacklog (case_id) VALUES (NEW.case_id); END
        """,
    ],
}
DROP_SQL = {
    "postgresql": ["DROP TRIGGER IF EXISTS dashboards_rollup_backlog ON cases_caseevent",
                   "DROP FUNCTION IF EXISTS dashboards_rollup_backlog_add()"],
    "sqlite": ["DROP TRIGGER IF EXISTS dashboards_rollup_backlog"],
}
# The events the old refresh had not yet read for sure: past its watermark, less its overlap.
SEED_SQL = """
INSERT INTO dashboards_rollupbacklog (case_id)
SELECT DISTINCT case_id FROM cases_caseevent
WHERE id > COALESCE((SELECT last_event_id FROM cases_rollupstate WHERE id = 1) - 500, 0)
"""


def add_trigger(apps, schema_editor):
    for sql in TRIGGER_SQL.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)
    schema_editor.execute(SEED_SQL)


def drop_trigger(apps, schema_editor):
    # Back on the watermark (0 after the column comes back): the old refresh rereads the timeline once.
    for sql in DROP_SQL.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0010_rollups_move_to_dashboards'),
        ('dashboards', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='RollupBacklog',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('case_id', models.BigIntegerField(verbose_name='case')),
            ],
            options={
                'verbose_name': 'rollup backlog entry',
                'verbose_name_plural': 'rollup backlog',
            },
        ),
        migrations.RunPython(add_trigger, drop_trigger),
        migrations.RemoveField(
            model_name='rollupstate',
            name='last_event_id',
        ),
    ]
