# Autovacuum thresholds for the dashboards' high-churn tables (issue #24; README
# "PostgreSQL for a city"). PostgreSQL only: a no-op on SQLite.

from django.db import migrations

from portal.pgstorage import autovacuum


class Migration(migrations.Migration):

    dependencies = [
        ('dashboards', '0004_backlog_trigger_after_timeline_rebuild'),
    ]

    operations = [
        autovacuum({
            # Every timeline event lists its case here; each refresh (every minute) deletes them.
            "dashboards_rollupbacklog": {"autovacuum_vacuum_scale_factor": 0.0,
                                         "autovacuum_vacuum_threshold": 1000},
            # Each refresh rewrites the buckets of the cases it took.
            "cases_caserollup": {"autovacuum_vacuum_scale_factor": 0.02, "autovacuum_analyze_scale_factor": 0.02},
        }),
    ]
