"""The rollups under real concurrency (PostgreSQL): a refresh steps aside while a rebuild
holds them, misses nothing of a sweep batch that commits after it ran, and two refreshes
at once count nothing twice."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F

from cases.models import Case, CaseEvent, EventAction
from dashboards.models import CaseRollup, Grain, RollupBacklog, RollupState
from dashboards.rollups import rollups_rebuild, rollups_refresh

from .cases_factories import MONDAY, resident_report
from .test_dashboard_rollups import live_buckets, stored_buckets

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
    assert RollupBacklog.objects.count() == 1
    assert rollups_refresh(now=MONDAY) == 1


# What the refresh used to re-read behind its watermark (issue #25): the batch below is longer.
OVERLAP_EVENTS = 500


def _open_sweep_batch(cases, *, tail, size, now, opened, commit):
    """Thread body: one sweep-sized batch in one open transaction, the way `escalate_overdue`
    writes it (cases moved up and their timeline rows in one INSERT). The escalated cases'
    rows come first; `tail` carries the rest of the batch, so its first rows lie more than
    OVERLAP_EVENTS ids behind its end. Commits when `commit` is set."""
    try:
        with transaction.atomic():
            moved = [*cases, tail]
            Case.objects.filter(pk__in=[c.pk for c in moved]).update(escalation_count=F("escalation_count") + 1)
            rows = [c.pk for c in cases] + [tail.pk] * (size - len(cases))
            CaseEvent.objects.bulk_create(
                CaseEvent(case_id=pk, action=EventAction.ESCALATE, at=now, is_public=True,
                          data={"by_hand": False}) for pk in rows)
            opened.set()
            assert commit.wait(20)
    finally:
        connection.close()


def test_refresh_during_an_open_sweep_batch_misses_nothing(on_postgres, city):
    """Issue #25: a refresh that runs while a sweep batch is uncommitted, and one after its
    commit, leave the rollups equal to a full rebuild."""
    now = MONDAY
    escalated = [resident_report(city, building=b, now=now) for b in (city.building_a, city.building_b)]
    tail = resident_report(city, building=city.building_a2, now=now)
    rollups_rebuild(now=now)
    opened, commit = threading.Event(), threading.Event()
    thread = threading.Thread(target=_open_sweep_batch, kwargs=dict(
        cases=escalated, tail=tail, size=2 * OVERLAP_EVENTS + 100, now=now, opened=opened, commit=commit))
    thread.start()
    try:
        assert opened.wait(20)
        # Meanwhile a report commits: its timeline rows take ids past the open batch's.
        resident_report(city, building=city.building_b, now=now + timedelta(seconds=1))
        rollups_refresh(now=now + timedelta(seconds=1))
    finally:
        commit.set()
        thread.join()
    assert Case.objects.filter(escalation_count__gt=0).count() == 3
    rollups_refresh(now=now + timedelta(minutes=1))
    assert stored_buckets() == live_buckets()
    assert sum(CaseRollup.objects.filter(grain=Grain.STREET).values_list("escalated", flat=True)) == 3
    assert not RollupBacklog.objects.exists()


def test_two_refreshes_at_once_count_each_case_once(on_postgres, city):
    now = MONDAY
    for building in (city.building_a, city.building_a2, city.building_b):
        resident_report(city, building=building, now=now)
    start, results = threading.Barrier(2), []

    def refresh():
        try:
            start.wait(10)
            results.append(rollups_refresh(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert stored_buckets() == live_buckets()
    assert sum(CaseRollup.objects.filter(grain=Grain.COMMUNITY).values_list("reported", flat=True)) == 3
    assert sum(CaseRollup.objects.filter(grain=Grain.STREET).values_list("reported", flat=True)) == 3
    # Whatever one of them left to the other (or to the next minute) is still there to fold in.
    rollups_refresh(now=now)
    assert stored_buckets() == live_buckets()
