"""PgBouncer in transaction mode in front of PostgreSQL (issue #24 item 4; portal/pooler.py).

Debian's pgbouncer is started on a free port in front of the suite's PostgreSQL, with one server
connection per database (pool_size 1), so every client shares it: whatever one client leaves in
the server session, the next one meets. Through it, with DATABASE_POOLER=pgbouncer's settings:
a public report is received (the intake's prepared INSERT) and registered as a case, tree writes
and the escalation sweep take their (transaction-level) locks, and the case export streams.
Without those settings the intake's SQL PREPARE breaks for the second client: why they exist.

Skips, with the reason, where it cannot run: not PostgreSQL, or pgbouncer not installed.
"""

import psycopg
import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.urls import reverse

from bench.pgcluster import PgBouncer, Unavailable
from cases import escalation, services_intake, services_report
from cases.models import Case, Channel, Intake
from grid import services as grid_services
from grid.models import AreaKind, Role
from portal import pooler

from .cases_factories import MONDAY, at, category, fresh_calendar, people, resident_report  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.clock(MONDAY)]


@pytest.fixture(scope="module")
def bouncer(django_db_setup, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: .ci/run runs this with DATABASE_URL set to the local server")
    server = connection.settings_dict
    try:
        with PgBouncer(host=server["HOST"] or "127.0.0.1", port=server["PORT"] or 5432) as running:
            yield running
    except Unavailable as reason:
        pytest.skip(f"cannot start PgBouncer here: {reason}")


def _switch(bouncer, *, pooler_settings, prepared_statements=False):
    """Point `default` at PgBouncer (with or without DATABASE_POOLER=pgbouncer's settings); returns
    a function that puts it back."""
    settings_dict = connections["default"].settings_dict
    saved, saved_options = dict(settings_dict), dict(settings_dict["OPTIONS"])
    connections["default"].close()
    settings_dict.update(HOST="127.0.0.1", PORT=bouncer.port)
    if pooler_settings:
        pooler.configure({"default": settings_dict}, pooler.PGBOUNCER, prepared_statements=prepared_statements)

    def restore():
        connections["default"].close()
        settings_dict.clear()
        settings_dict.update(saved, OPTIONS=saved_options)

    return restore


@pytest.fixture
def through_pgbouncer(bouncer):
    """`default` through PgBouncer, configured as DATABASE_POOLER=pgbouncer configures it. Asked for
    before the data fixtures, so they are written through it too."""
    restore = _switch(bouncer, pooler_settings=True)
    yield bouncer
    restore()


def receive(city, n):
    return services_intake.intake_receive(category=category("E0101"), description=f"楼道堆放杂物 #{n}", channel=Channel.WEB,
                                          building=city.building_a, reporter_phone="13800000000")


def test_the_setting_configures_postgresql_entries_only():
    databases = {"default": {"ENGINE": "django.db.backends.postgresql", "OPTIONS": {"pool": True}},
                 "other": {"ENGINE": "django.db.backends.sqlite3"}}
    pooler.configure(databases, "pgbouncer")
    assert databases["default"]["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert databases["default"]["OPTIONS"] == {"prepare_threshold": None}  # and Django's own pool is off
    assert "DISABLE_SERVER_SIDE_CURSORS" not in databases["other"]
    pooler.configure(databases, "pgbouncer", prepared_statements=True)
    assert databases["default"]["OPTIONS"]["prepare_threshold"] == pooler.ONLY_WHEN_ASKED
    untouched = {"default": {"ENGINE": "django.db.backends.postgresql", "OPTIONS": {}}}
    assert pooler.configure(untouched, "") == {"default": {"ENGINE": "django.db.backends.postgresql",
                                                           "OPTIONS": {}}}
    with pytest.raises(ValueError, match="pgbouncer"):
        pooler.configure(untouched, "pgpool")


def test_reports_are_received_and_registered_through_pgbouncer(through_pgbouncer, city, people):
    assert connection.settings_dict["PORT"] == through_pgbouncer.port
    assert pooler.prepared_statements(connection) is None  # PgBouncer 1.18 here: unprepared
    first = receive(city, 1)
    connection.close()  # a second client, on the same (only) server connection
    second = receive(city, 2)
    assert first.pk and second.pk and first.tracking_code != second.tracking_code
    services_intake.intake_register_pending()  # what the kick on commit has not registered yet
    cases = Case.objects.filter(tracking_code__in=[first.tracking_code, second.tracking_code])
    assert cases.count() == 2 and not Intake.objects.exists()
    pools = [p for p in through_pgbouncer.admin("SHOW POOLS") if p["database"] == connection.settings_dict["NAME"]]
    assert pools and pools[0]["pool_mode"] == "transaction"


def test_without_the_setting_the_intakes_sql_prepare_breaks_behind_pgbouncer(bouncer, city, people):
    restore = _switch(bouncer, pooler_settings=False)
    try:
        receive(city, 1)  # PREPARE on the one server connection, remembered by this client
        connection.close()
        with pytest.raises(DatabaseError, match="already exists"):  # the next client prepares it again
            receive(city, 2)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")  # the server connection stays in PgBouncer's pool
        restore()


def test_tree_writes_and_the_sweep_take_transaction_level_locks_through_pgbouncer(through_pgbouncer, city,
                                                                                  people):
    with transaction.atomic():
        grid = grid_services.area_add(kind=AreaKind.GRID, name="连接池网格", parent=city.community_a)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            assert cursor.fetchone()[0] >= 1  # grid.services.lock_trees: pg_advisory_xact_lock
    host, port = through_pgbouncer.server  # the suite's own server, behind PgBouncer
    with psycopg.connect(host=host, port=port, user=connection.settings_dict["USER"] or "postgres",
                         dbname=connection.settings_dict["NAME"], autocommit=True) as direct:
        held = direct.execute("SELECT pid, classid, objid FROM pg_locks WHERE locktype = 'advisory' AND database = "
                              "(SELECT oid FROM pg_database WHERE datname = current_database())").fetchall()
    assert held == []  # nothing outlives the transaction on the shared server connection
    assert grid.pk and grid.parent_id == city.community_a.pk

    for _ in range(2):
        services_report.case_report(category=category("E0101"), channel=Channel.PATROL, building=city.building_a,
                                    description="路边暴露垃圾", acting_user=people.worker, now=MONDAY)
    late = at(2026, 11, 23, 10, 30)
    assert escalation.escalate_overdue(now=late) == 2  # SELECT … FOR UPDATE SKIP LOCKED, per batch
    assert escalation.escalate_overdue(now=late) == 0


def test_the_case_export_streams_through_pgbouncer(through_pgbouncer, city, people, make_user, client,
                                                   monkeypatch):
    case = services_report.case_report(category=category("E0101"), channel=Channel.PATROL, building=city.building_a,
                                       description="路边暴露垃圾", acting_user=people.worker, now=MONDAY)
    outside = resident_report(city, building=city.building_b)  # another street's
    named = []  # server-side (named, WITH HOLD) cursors the export would open
    backend = type(connections["default"])
    original = backend.chunked_cursor
    monkeypatch.setattr(backend, "chunked_cursor", lambda self: named.append(1) or original(self))
    client.force_login(make_user(Role.STREET_STAFF, city.street_a))
    response = client.get(reverse("cases:export"))
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content).decode()
    assert case.number in body and outside.number not in body
    assert named == []  # rows fetched by a plain cursor, in chunks, on whichever server connection


def test_protocol_prepared_intake_statement(city, people):
    """With DATABASE_POOLER_PREPARED_STATEMENTS (PgBouncer >= 1.21, max_prepared_statements > 0) the
    intake prepares through the protocol. PgBouncer here may be older, so this runs against PostgreSQL
    directly: the statement is prepared once per session and reused."""
    settings_dict = connections["default"].settings_dict
    saved, saved_options = dict(settings_dict), dict(settings_dict["OPTIONS"])
    connections["default"].close()
    pooler.configure({"default": settings_dict}, pooler.PGBOUNCER, prepared_statements=True)
    try:
        assert pooler.prepared_statements(connection) == "protocol"
        first, second = receive(city, 1), receive(city, 2)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), bool_and(NOT from_sql) FROM pg_prepared_statements "
                           "WHERE statement LIKE '%%cases_intake%%'")
            assert cursor.fetchone() == (1, True)
        services_intake.intake_register_pending()
        assert Case.objects.filter(tracking_code__in=[first.tracking_code, second.tracking_code]).count() == 2
    finally:
        connections["default"].close()
        settings_dict.clear()
        settings_dict.update(saved, OPTIONS=saved_options)
