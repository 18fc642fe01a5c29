import os

import pytest
from django.conf import settings

from grid.integrity import tree_problems

from .factories import build_city, user_with_post


def pytest_addoption(parser):
    parser.addoption(
        "--clock", default=os.environ.get("PORTAL_TEST_CLOCK", ""),
        help="run the whole session with the clock set to this ISO datetime (it keeps ticking); "
             "scripts/test-dates uses it to run the suite on holiday edges. Default: the real clock.")


def pytest_configure(config):
    _own_redis_database_per_worker()
    _travel_to(config.getoption("clock"))
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from portal.celery import app

    # Unit tests run tasks in-process; tests/test_celery_worker.py starts a real worker.
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    _serialized_rollback_after_post_migrate()
    _flush_past_append_only_triggers()


def _own_redis_database_per_worker():
    """Under pytest-xdist (scripts/test runs one worker per core) each worker gets its own Redis
    database, counting down from REDIS_URL's: every test clears the cache, and the real-broker tests
    start Celery workers that would take each other's tasks from a shared one. The cache, the
    broker and REDIS_URL itself (which those tests hand to the workers they start) all move."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = os.environ.get("REDIS_URL", "")
    if not worker.startswith("gw") or not url:
        return
    from urllib.parse import urlsplit, urlunsplit

    from django.core.cache import caches

    from portal.celery import app

    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    own = urlunsplit(parts._replace(path=f"/{(base - int(worker[2:])) % 16}"))
    os.environ["REDIS_URL"], os.environ["PORTAL_TEST_REDIS_URL_GIVEN"] = own, url
    for alias, cache in settings.CACHES.items():
        if cache.get("LOCATION") == url:
            settings.CACHES[alias] = {**cache, "LOCATION": own}
    caches._settings = caches.settings = caches.configure_settings(None)  # as Django's setting_changed does
    if settings.CELERY_BROKER_URL == url:
        settings.CELERY_BROKER_URL = own
        app.conf.broker_url = own  # not the CELERY_BROKER_URL variable: Celery would prefer it to app.conf


_traveller = None


def _travel_to(moment):
    """Move this process's clock to `moment` for the session (time-machine patches time.time,
    datetime.now and friends at the C level, so Django, Celery's eager tasks and the factories all
    see it). Browsers and real Celery workers in other processes keep the real clock."""
    global _traveller
    if not moment:
        return
    import datetime

    import time_machine

    when = datetime.datetime.fromisoformat(moment)
    if when.tzinfo is None:
        raise pytest.UsageError(f"--clock needs a time zone offset, e.g. {moment}+08:00")
    _traveller = time_machine.travel(when, tick=True)
    _traveller.start()


def pytest_report_header(config):
    header = f"database: {settings.DATABASES['default']['ENGINE']}  broker: {settings.CELERY_BROKER_URL}"
    if _traveller is not None:
        header += f"\nclock set to {config.getoption('clock')} (ticking)"
    return header


def _flush_past_append_only_triggers():
    """Let the flush after a transactional test empty append-only tables on SQLite, and leave
    every trigger as it found it.

    SQLite's flush deletes row by row, which the append-only triggers refuse (PostgreSQL
    truncates, which row triggers do not see). Each trigger is read from sqlite_master, dropped
    for the flush and recreated from its own SQL afterwards, so no test runs without the
    triggers the migrations made, whatever the order.
    """
    from django.db import connections
    from django.test.testcases import TransactionTestCase

    flush = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):
        saved = {}
        for alias in self._databases_names(include_mirrors=False):
            connection = connections[alias]
            if connection.vendor != "sqlite":
                continue
            with connection.cursor() as cursor:
                cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                saved[alias] = cursor.fetchall()
                for name, _sql in saved[alias]:
                    cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        try:
            flush(self)
        finally:
            for alias, triggers in saved.items():
                with connections[alias].cursor() as cursor:
                    for _name, sql in triggers:
                        cursor.execute(sql)

    TransactionTestCase._fixture_teardown = _fixture_teardown


def _serialized_rollback_after_post_migrate():
    """Let serialized_rollback tests follow plain transactional ones in any order.

    A plain transactional test's closing flush fires post_migrate, which recreates
    content types and permissions under new ids; the next serialized_rollback test
    then reloads the originals with their old ids and trips the unique
    (app_label, model). Clearing those two tables first makes the reload exact.
    """
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db.backends.base.creation import BaseDatabaseCreation

    reload = BaseDatabaseCreation.deserialize_db_from_string

    def deserialize_db_from_string(self, data):
        with self.connection.cursor() as cursor:
            for model in (Permission, ContentType):
                cursor.execute(f"DELETE FROM {self.connection.ops.quote_name(model._meta.db_table)}")
        ContentType.objects.clear_cache()
        return reload(self, data)

    BaseDatabaseCreation.deserialize_db_from_string = deserialize_db_from_string


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the dashboards keep figures and outlines under keys made
    of ids and the (frozen) clock, which two tests' databases can share."""
    from django.core.cache import cache

    from cases import services_intake

    cache.clear()
    services_intake._window_opened_here_until = 0.0  # this process's note of the kick's window in the cache


@pytest.fixture
def city(db):
    return build_city()


@pytest.fixture
def make_user(db):
    return user_with_post


@pytest.fixture
def assert_trees_sound():
    def check():
        problems = tree_problems()
        assert problems == [], problems

    return check


def pytest_collection_modifyitems(config, items):
    """A test that asks for PostgreSQL carries the `postgres` marker, so `-m "not postgres"`
    and the skip summary agree with what really needs the server."""
    for item in items:
        if "on_postgres" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(autouse=True)
def _language_of_the_product():
    """Each test starts in the product's language (zh-hans), whatever the test before it left
    active: a request with Accept-Language: en leaves English active in the thread afterwards,
    so without this a message's language would depend on the order the tests run in."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _clock_marker(request):
    """`@pytest.mark.clock(moment)` runs the test with the clock at `moment` (ticking), for tests
    whose data is dated by constants (MONDAY, NOW) while the code under test asks for now."""
    marker = request.node.get_closest_marker("clock")
    if marker is None:
        yield
        return
    import time_machine

    with time_machine.travel(marker.args[0], tick=True):
        yield


@pytest.fixture(autouse=True)
def _postgres_marker_means_postgres(request):
    """…and a test marked `postgres` skips, with its reason, where the database is not PostgreSQL."""
    if request.node.get_closest_marker("postgres"):
        request.getfixturevalue("on_postgres")


@pytest.fixture
def on_postgres():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: .ci/run runs this with DATABASE_URL set to the local server")
    return connection


BROWSER = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
