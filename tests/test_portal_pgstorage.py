"""portal/pgstorage.py and the migrations that use it: per-table autovacuum settings on
PostgreSQL, nothing on SQLite."""

import pytest

from portal.pgstorage import reset_sql, storage_sql


def test_the_statements():
    assert storage_sql("cases_case", {"autovacuum_vacuum_scale_factor": 0.01,
                                      "autovacuum_vacuum_threshold": 1000}) == (
        'ALTER TABLE "cases_case" SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000)'
    )
    assert reset_sql("cases_case", {"autovacuum_vacuum_scale_factor": 0.01}) == (
        'ALTER TABLE "cases_case" RESET (autovacuum_vacuum_scale_factor)'
    )
    with pytest.raises(ValueError):
        storage_sql("cases_case", {"fillfactor": 90})


@pytest.mark.django_db
def test_the_high_churn_tables_carry_their_settings(on_postgres):
    with on_postgres.cursor() as cursor:
        cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)",
                       [["cases_case", "cases_caseevent", "cases_intake", "dashboards_rollupbacklog"]])
        options = {name: {k: float(v) for k, _, v in (o.partition("=") for o in opts or ())}
                   for name, opts in cursor.fetchall()}
    assert options["cases_case"]["autovacuum_vacuum_scale_factor"] == 0.01
    assert options["cases_caseevent"]["autovacuum_vacuum_insert_scale_factor"] == 0.01
    assert options["cases_intake"]["autovacuum_vacuum_scale_factor"] == 0
    assert options["cases_intake"]["autovacuum_vacuum_threshold"] == 1000
    assert options["dashboards_rollupbacklog"]["autovacuum_vacuum_threshold"] == 1000
