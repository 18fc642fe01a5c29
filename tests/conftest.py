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
