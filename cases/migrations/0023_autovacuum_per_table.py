# Autovacuum thresholds for the cases app's high-churn tables (issue #24; README
# "PostgreSQL for a city"). PostgreSQL only: a no-op on SQLite.

from django.db import migrations

from portal.pgstorage import autovacuum


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0022_reporters_encrypted_and_masked'),
    ]

    operations = [
        autovacuum({
            # Every transition and the sweep update cases: vacuum at 1 % dead rows (21,000 of
            # a city's 2.1 M) instead of 20 %, and analyse at 2 % so the plans follow the statuses.
            "cases_case": {"autovacuum_vacuum_scale_factor": 0.01, "autovacuum_analyze_scale_factor": 0.02},
            # The timeline only grows (15.6 M rows): vacuum for the visibility map after 1 % new
            # rows, so index-only scans stay index-only.
            "cases_caseevent": {"autovacuum_vacuum_insert_scale_factor": 0.01,
                                "autovacuum_analyze_scale_factor": 0.02},
            # Queues: every row is inserted, then deleted or updated within minutes.
            "cases_intake": {"autovacuum_vacuum_scale_factor": 0.0, "autovacuum_vacuum_threshold": 1000},
            "cases_delivery": {"autovacuum_vacuum_scale_factor": 0.02, "autovacuum_analyze_scale_factor": 0.02},
            "cases_escalationnotice": {"autovacuum_vacuum_scale_factor": 0.0,
                                       "autovacuum_vacuum_threshold": 1000},
            # One row per day, updated by every new case.
            "cases_casenumbercounter": {"autovacuum_vacuum_scale_factor": 0.0,
                                        "autovacuum_vacuum_threshold": 1000},
        }),
    ]
