"""The suite's own plumbing: the flush between transactional tests and the markers.

Tests must pass in any order. On SQLite the flush after a transactional test
deletes row by row, which the append-only triggers refuse; tests/conftest.py
drops every trigger for the flush and recreates it from its own SQL, so the
tests after it still run with the triggers the migrations made.
"""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.testcases import TransactionTestCase

from grid.models import Role
from residents import services as resident_services
from residents.models import AccessLog

from .factories import build_city, user_with_post
from .residents_factories import household_in, resident_in


def sqlite_triggers():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_the_flush_empties_append_only_tables_and_puts_every_trigger_back():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL flushes with TRUNCATE, which row triggers do not see")
    before = sqlite_triggers()
    names = {name for name, _sql in before}
    assert {"residents_accesslog_no_delete", "residents_accesslog_no_update"} <= names
    city = build_city()
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    person = resident_in(household_in(city.unit_a, acting_user=staff), acting_user=staff)
    resident_services.resident_reveal(resident=person, field="phone", reason="联系家属", acting_user=staff)
    assert AccessLog.objects.exists()

    TransactionTestCase("run")._fixture_teardown()  # the flush pytest-django runs after this test

    assert not AccessLog.objects.exists()
    assert sqlite_triggers() == before
    # …and they still bite: the next test's history is append-only again.
    city = build_city()
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    person = resident_in(household_in(city.unit_a, acting_user=staff), acting_user=staff)
    resident_services.resident_reveal(resident=person, field="phone", reason="联系家属", acting_user=staff)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.all().delete()


def test_the_postgresql_door_names_the_server(on_postgres):
    """Asked for by every PostgreSQL-only test; on SQLite it skips with its reason."""
    assert on_postgres.vendor == "postgresql" and on_postgres.pg_version >= 130000


def test_a_test_that_needs_postgresql_carries_the_marker(request):
    """`on_postgres` adds the marker (and the marker asks for `on_postgres`), so the two never part."""
    items = request.session.items
    needing = [item for item in items if "on_postgres" in getattr(item, "fixturenames", ())]
    marked = [item for item in items if item.get_closest_marker("postgres")]
    assert "tests/test_suite_isolation.py::test_the_postgresql_door_names_the_server" in {
        item.nodeid for item in needing}
    assert {item.nodeid for item in needing} <= {item.nodeid for item in marked}


def test_browser_tests_are_collected_last(request):
    items = request.session.items
    flags = ["browser" in item.keywords for item in items]
    assert flags == sorted(flags)



def test_each_xdist_worker_has_its_own_redis_database():
    """scripts/test runs one worker per core; two workers sharing a Redis database would clear each
    other's cache mid-test and take each other's Celery tasks (tests/conftest.py moves them apart)."""
    import os

    from django.conf import settings

    from portal.celery import app

    worker, given = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PORTAL_TEST_REDIS_URL_GIVEN", "")
    if not worker or not given:
        pytest.skip("runs under pytest-xdist with REDIS_URL set, as .ci/run's PostgreSQL stage does")
    own = os.environ["REDIS_URL"]
    expected = (int(given.rsplit("/", 1)[1]) - int(worker[2:])) % 16
    assert own.rsplit("/", 1) == [given.rsplit("/", 1)[0], str(expected)]
    assert settings.CACHES["default"]["LOCATION"] == own
    assert app.conf.broker_url == own
