import os

import pytest
from django.conf import settings

from grid.integrity import tree_problems

from .factories import build_city, user_with_post


def pytest_configure(config):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from portal.celery import app

    # Unit tests run tasks in-process; tests/test_celery_worker.py starts a real worker.
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    _serialized_rollback_after_post_migrate()


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


def pytest_report_header(config):
    return f"database: {settings.DATABASES['default']['ENGINE']}  broker: {settings.CELERY_BROKER_URL}"


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


@pytest.fixture
def on_postgres():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: .ci/run runs this with DATABASE_URL set to the local server")
    return connection


BROWSER = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
