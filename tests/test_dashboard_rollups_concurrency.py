"""A refresh steps aside while a rebuild holds the rollups (PostgreSQL row lock)."""

import threading

import pytest
from django.db import connection, transaction

from dashboards.models import RollupState
from dashboards.rollups import rollups_refresh

from .cases_factories import MONDAY, resident_report

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_refresh_skips_while_the_state_row_is_locked(on_postgres, city):
    resident_report(city, now=MONDAY)
    RollupState.objects.get_or_create(pk=1)
    locked, release, result = threading.Event(), threading.Event(), []

    def holder():
        try:
            with transaction.atomic():
                RollupState.objects.select_for_update().get(pk=1)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert locked.wait(10)
        result.append(rollups_refresh(now=MONDAY))
    finally:
        release.set()
        thread.join()
    assert result == [0]
    assert RollupState.objects.get().last_event_id == 0
    assert rollups_refresh(now=MONDAY) == 1
