"""Rollups (dashboards/rollups.py) equal the live query after random transitions, and
refreshing is incremental and idempotent."""

import random
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from cases import escalation, oversight, services
from cases.models import Case, CaseEvent, Status
from dashboards.figures import ALL_MEASURES, LiveSource, Place, RollupSource, local_day, period_for
from dashboards.models import CaseRollup, Grain, RollupBacklog, RollupState
from dashboards.rollups import _rows, rollups_rebuild, rollups_refresh
from portal.errors import DomainError

from .cases_factories import MONDAY, at, png, resident_report
from .factories import UserFactory


KEY = ("grain", "place_id", "day", "category_id", "triage", "channel", "handler_id")


def live_buckets():
    """Every grain's buckets recomputed from the whole case table."""
    rows = [r for grain in Grain for r in _rows(Case.objects.all(), grain)]
    return {tuple(getattr(r, k) for k in KEY): {m: getattr(r, m) for m in ALL_MEASURES} for r in rows}


def stored_buckets():
    rows = CaseRollup.objects.values(*KEY, *ALL_MEASURES)
    return {tuple(r.pop(k) for k in KEY): r for r in rows}


def assert_sources_agree(city, period):
    """The page's two sources give the same figures for every place that has rollups."""
    places = [None, city.district, city.street_a, city.street_b, city.community_a, city.community_b]
    for area in places:
        place = Place.of(area)
        live, rollup = LiveSource(Case.objects.all(), place, period), RollupSource(place, period)
        assert live.totals() == rollup.totals(), area
        key = lambda r: (r["top_category"], r["triage"], r["channel"])  # noqa: E731
        if place.has_facet_rollups:
            assert sorted(live.facets(), key=key) == sorted(rollup.facets(), key=key)
            by_handler = lambda r: r["handler"] or 0  # noqa: E731
            assert sorted(live.handlers(), key=by_handler) == sorted(rollup.handlers(), key=by_handler)
        assert [dict(r) for r in live.by_day()] == rollup.by_day()
        if place.child_field and place.child_field != "grid":
            by = place.child_field
            assert sorted(live.by(by), key=lambda r: r[by]) == sorted(rollup.by(by), key=lambda r: r[by])


def _step(case, rng, a, b, now):
    """One random move on `case` through the services (refused moves are fine)."""
    case.refresh_from_db()
    moves = {
        Status.REPORTED: [lambda: services.case_register(case=case, acting_user=a, now=now),
                          lambda: services.case_reject(case=case, acting_user=a, reason="不属实", now=now)],
        Status.REGISTERED: [lambda: services.case_dispatch(case=case, acting_user=a, now=now)],
        Status.DISPATCHED: [lambda: services.case_accept(case=case, acting_user=a, now=now),
                            lambda: services.case_escalate(case=case, acting_user=a, reason="超出能力", now=now)],
        Status.HANDLING: [lambda: services.case_resolve(case=case, acting_user=a, note="已处理", photos=[png()],
                                                        now=now),
                          lambda: oversight.case_supervise(case=case, acting_user=b, now=now)],
        Status.RESOLVED: [lambda: services.case_verify(case=case, acting_user=b, passed=rng.random() < 0.7,
                                                       now=now)],
        Status.VERIFIED: [lambda: services.case_close(case=case, acting_user=a, now=now)],
        Status.CLOSED: [lambda: services.case_rate(tracking_code=case.tracking_code, rating=rng.randint(1, 5),
                                                   now=now),
                        lambda: services.case_reopen(case=case, acting_user=a, reason="不满意", now=now)],
    }.get(case.status, [])
    if moves:
        try:
            rng.choice(moves)()
        except DomainError:
            pass


@pytest.mark.parametrize("seed", [1, 2])
def test_rollups_equal_live_after_random_transitions(city, seed, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rng = random.Random(seed)
    a = UserFactory(is_superuser=True)
    b = UserFactory(is_superuser=True)
    places = [city.building_a, city.building_a2, city.building_b]
    cases, now = [], at(2026, 11, 29, 22, 0)  # reports either side of Shanghai midnight and month end
    rollups_rebuild(now=now)
    for round_ in range(6):
        for _ in range(5):
            now += timedelta(minutes=rng.randint(10, 50))
            cases.append(resident_report(city, building=rng.choice(places), now=now))
        for _ in range(25):
            now += timedelta(minutes=rng.randint(1, 20))
            _step(rng.choice(cases), rng, a, b, now)
        rollups_refresh(now=now)
        assert stored_buckets() == live_buckets()
    assert {c.status for c in Case.objects.all()} >= {Status.CLOSED, Status.HANDLING}
    assert len({key[2] for key in stored_buckets()}) >= 2  # days either side of midnight
    for kind in ("today", "week", "month"):
        assert_sources_agree(city, period_for(kind, local_day(now)))
    assert_sources_agree(city, period_for("custom", None, first=date(2026, 11, 29), last=date(2026, 12, 1)))


def test_refresh_is_incremental_and_idempotent(city):
    first = resident_report(city, now=MONDAY)
    assert rollups_refresh(now=MONDAY) == 1
    state = RollupState.objects.get()
    assert state.refreshed_at == MONDAY and not RollupBacklog.objects.exists()
    before = stored_buckets()
    # Nothing new: nothing recomputed, the same rows.
    assert rollups_refresh(now=MONDAY + timedelta(minutes=1)) == 0
    assert stored_buckets() == before
    # Reading a case again (listed twice) changes nothing either.
    RollupBacklog.objects.bulk_create([RollupBacklog(case_id=first.pk)] * 2)
    assert rollups_refresh(now=MONDAY) == 1
    assert stored_buckets() == before == live_buckets()
    # A report at another grid touches only its own bucket.
    resident_report(city, building=city.building_b, now=MONDAY + timedelta(hours=1))
    assert rollups_refresh(now=MONDAY + timedelta(hours=1)) >= 1
    assert stored_buckets() == live_buckets()
    assert CaseRollup.objects.get(place=city.community_a, grain=Grain.COMMUNITY).reported == 1
    assert CaseRollup.objects.get(place=city.street_a, grain=Grain.STREET).reported == 1
    first.refresh_from_db()


def test_rebuild_command_and_task(city):
    resident_report(city, now=MONDAY)
    resident_report(city, building=city.building_b, now=MONDAY)
    CaseRollup.objects.create(grain=Grain.COMMUNITY, place=city.street_a, district=city.district,
                              street=city.street_a, day=MONDAY.date(), reported=99, valid=99)
    call_command("rebuild_rollups")
    assert stored_buckets() == live_buckets()
    assert not CaseRollup.objects.filter(place=city.street_a, grain=Grain.COMMUNITY).exists()
    from dashboards.tasks import refresh_rollups

    refresh_rollups.delay()
    assert stored_buckets() == live_buckets()
    assert RollupState.objects.get().rebuilt_at is not None


def test_each_timeline_insert_lists_its_case_in_the_backlog(city):
    """The trigger of migration dashboards 0002 fires (a later migration that rebuilds
    cases_caseevent on SQLite would drop it silently)."""
    case = resident_report(city, now=MONDAY)
    assert set(RollupBacklog.objects.values_list("case_id", flat=True)) == {case.pk}
    rollups_refresh(now=MONDAY)
    assert not RollupBacklog.objects.exists()
    CaseEvent.objects.create(case=case, action=CaseEvent.Action.ESCALATE, at=MONDAY)
    assert list(RollupBacklog.objects.values_list("case_id", flat=True)) == [case.pk]


def test_the_escalation_sweep_reaches_the_rollups(city):
    """The sweep's own write (on PostgreSQL one INSERT … SELECT inside a CTE) fills the backlog."""
    reported = [resident_report(city, building=b, now=MONDAY)
                for b in (city.building_a, city.building_a2, city.building_b)]
    later = MONDAY + timedelta(days=30)
    rollups_rebuild(now=MONDAY)
    assert escalation.escalate_overdue(now=later) == len(reported)
    assert rollups_refresh(now=later) >= 1
    assert stored_buckets() == live_buckets()
    assert sum(CaseRollup.objects.filter(grain=Grain.STREET).values_list("escalated", flat=True)) == 3


def test_rebuild_takes_the_backlog_with_it(city):
    resident_report(city, now=MONDAY)
    rollups_rebuild(now=MONDAY)
    assert not RollupBacklog.objects.exists()
    assert rollups_refresh(now=MONDAY) == 0
    assert stored_buckets() == live_buckets()
