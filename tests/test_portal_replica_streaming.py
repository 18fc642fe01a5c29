"""The replica router against a real streaming replica (issue #24 item 3), not a pretend one.

bench/pgcluster.py brings up a PostgreSQL primary and a `pg_basebackup -R` standby on free ports
(the bench uses the same code); the primary gets a copy of the test database (pg_dump | psql), and
for this module Django's `default` alias points at that primary and a `replica` alias at the
standby. Then: a write on the primary shows on the standby after catch-up (and the standby refuses
writes); the district dashboard runs its queries on the standby, a user who just wrote runs them on
the primary; a standby whose replay is paused (pg_wal_replay_pause) falls behind and is skipped.

Skips, with the reason, where it cannot run: not PostgreSQL, or no server binaries to start one.
"""

import time

import pytest
from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, connections
from django.urls import reverse

from bench.pgcluster import ReplicaPair, Unavailable, free_port
from grid import services
from grid.models import AreaKind, Role
from portal import replica
from tests.factories import build_city, user_with_post

# Transactional: the writes must commit to stream. The flush after each test empties the pair's
# primary (`default` points there until the module ends), never the suite's database.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, databases="__all__"),
              pytest.mark.clock("2026-11-02T10:00:00+08:00")]


@pytest.fixture(scope="module")
def pair(django_db_setup, django_db_blocker):
    """The pair, with `default` on its primary and `replica` on its standby for this module only."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: .ci/run runs this with DATABASE_URL set to the local server")
    try:
        cluster = ReplicaPair(settings={"fsync": "off", "full_page_writes": "off"}, prefix="portal-replica-test-")
        cluster.start()
    except Unavailable as reason:
        pytest.skip(f"cannot start a PostgreSQL primary and replica here: {reason}")
    saved = dict(connections["default"].settings_dict)
    try:
        with django_db_blocker.unblock():
            test_db = saved["NAME"]
            source = (f"postgres://{saved['USER'] or 'postgres'}@{saved['HOST'] or '127.0.0.1'}:"
                      f"{saved['PORT'] or 5432}/{test_db}")
            cluster.copy_database(source, test_db)
            connections["default"].close()
            connections["default"].settings_dict.update(HOST="127.0.0.1", PORT=cluster.ports["primary"],
                                                        USER="postgres", PASSWORD="")
            # A mirror, as settings.py declares it, so the flush after each test leaves it alone.
            connections.settings["replica"] = {**connections["default"].settings_dict, "PORT": cluster.ports["replica"],
                                               "TEST": {**saved.get("TEST", {}), "MIRROR": "default"}}
            cluster.wait_caught_up()
            yield cluster
    finally:
        for alias in ("default", "replica"):
            try:
                connections[alias].close()
            except Exception:  # noqa: BLE001 — an alias never opened, or never added
                pass
        connections.settings.pop("replica", None)
        try:
            del connections["replica"]
        except AttributeError:
            pass
        connections["default"].settings_dict.clear()
        connections["default"].settings_dict.update(saved)
        # The flushes re-created content types on the pair's primary: forget their ids.
        ContentType.objects.clear_cache()
        cluster.stop()


def queries_on(alias):
    """Record the statements one connection runs (the test client runs in this thread)."""
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    return seen, connections[alias].execute_wrapper(wrapper)


@pytest.fixture
def district_official(pair):
    city = build_city()
    return city, user_with_post(Role.DISTRICT_OFFICIAL, city.district)


def test_a_write_on_the_primary_streams_to_the_replica_which_refuses_writes(pair, district_official):
    city, _ = district_official
    grid = services.area_add(kind=AreaKind.GRID, name="流复制网格", parent=city.community_a)
    pair.wait_caught_up()
    on_replica = type(grid).objects.using("replica")
    assert on_replica.get(pk=grid.pk).name == "流复制网格"
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (True,)
    with pytest.raises(DatabaseError, match="read-only"):
        on_replica.filter(pk=grid.pk).update(name="改不了")


def test_the_dashboard_reads_the_replica_and_a_writer_reads_the_primary(pair, district_official, client):
    city, official = district_official
    client.force_login(official)
    pair.wait_caught_up()  # the session, written on the primary, is on the replica too
    url = reverse("cases:dashboard_place", args=[city.district.pk])

    on_replica, watching = queries_on("replica")
    with watching:
        response = client.get(url)
    assert response.status_code == 200 and city.district.name in response.content.decode()
    assert 0 <= response.context["replica_lag"] <= django_settings.REPLICA_MAX_LAG_SECONDS
    assert any("cases_" in sql or "dashboards_" in sql for sql in on_replica), on_replica

    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": url})
    assert replica.STICKY_COOKIE in response.cookies
    on_replica, watching = queries_on("replica")
    on_primary, watching_primary = queries_on("default")
    with watching, watching_primary:
        response = client.get(url)
    assert response.status_code == 200 and "replica_lag" not in response.context
    assert on_replica == [] and any("cases_" in sql or "dashboards_" in sql for sql in on_primary)


def test_a_paused_replica_falls_behind_and_is_skipped(pair, district_official, client, settings):
    city, official = district_official
    settings.REPLICA_MAX_LAG_SECONDS = 1
    client.force_login(official)
    pair.wait_caught_up()
    with pair.connect("replica") as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            late = services.area_add(kind=AreaKind.GRID, name="暂停后的网格", parent=city.community_b)
            deadline = time.monotonic() + 15
            while (replica.replica_lag_seconds() or 0) <= 1:
                assert time.monotonic() < deadline, "the paused replica never counted as behind"
                time.sleep(0.2)
            assert not type(late).objects.using("replica").filter(pk=late.pk).exists()

            on_replica, watching = queries_on("replica")
            with watching:
                response = client.get(reverse("cases:dashboard_place", args=[city.district.pk]))
            assert response.status_code == 200 and "replica_lag" not in response.context
            assert len(on_replica) == 1 and "pg_last_wal_replay_lsn" in on_replica[0]  # the lag check, nothing else
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")
    pair.wait_caught_up()
    assert type(late).objects.using("replica").filter(pk=late.pk).exists()


def test_a_replica_that_is_down_sends_the_dashboard_to_the_primary(pair, district_official, client):
    city, official = district_official
    client.force_login(official)
    replica_settings = connections.settings["replica"]
    port = replica_settings["PORT"]
    connections["replica"].close()
    replica_settings["PORT"] = free_port()  # nothing listens there
    try:
        response = client.get(reverse("cases:dashboard_place", args=[city.district.pk]))
        assert response.status_code == 200 and "replica_lag" not in response.context
    finally:
        connections["replica"].close()
        replica_settings["PORT"] = port
