"""Working time: weekends, lunch breaks, public holidays, 调休 days, and staff edits."""

from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.workcalendar import calendar as wc
from portal.workcalendar import holidays
from portal.workcalendar.calendar import add_working_time, working_minutes_between, years_without_holidays
from portal.workcalendar.models import CalendarDay, DayKind, DaySource, TimeUnit, WorkingPeriod

from .cases_factories import TZ, at, fresh_calendar  # noqa: F401

WH, WD, H = TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS, TimeUnit.HOURS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("start", "value", "unit", "expected"),
    [
        # Inside one morning.
        (at(2026, 11, 23, 9, 0), 2, WH, at(2026, 11, 23, 11, 0)),
        # Across the lunch break (12:00–13:30).
        (at(2026, 11, 23, 11, 0), 2, WH, at(2026, 11, 23, 14, 30)),
        # Reported in the evening: the clock starts next morning.
        (at(2026, 11, 23, 20, 0), 1, WH, at(2026, 11, 24, 9, 30)),
        # Friday afternoon over a weekend.
        (at(2026, 11, 27, 16, 0), 4, WH, at(2026, 11, 30, 11, 0)),
        # Reported on a Saturday: Monday morning.
        (at(2026, 11, 28, 10, 0), 1, WH, at(2026, 11, 30, 9, 30)),
        # One working day is one day's working periods: same time next working day.
        (at(2026, 11, 23, 10, 0), 1, WD, at(2026, 11, 24, 10, 0)),
        (at(2026, 11, 27, 10, 0), 1, WD, at(2026, 11, 30, 10, 0)),
        # Exactly a day from the day's start ends at the day's close.
        (at(2026, 11, 23, 8, 30), 1, WD, at(2026, 11, 23, 17, 30)),
        # National Day 2026 (Oct 1–7) is a holiday week.
        (at(2026, 9, 30, 16, 0), 4, WH, at(2026, 10, 8, 11, 0)),
        # Saturday Oct 10 2026 is worked in exchange (调休).
        (at(2026, 10, 9, 16, 0), 4, WH, at(2026, 10, 10, 11, 0)),
        # Sunday Sep 20 2026 is worked in exchange, Saturday Sep 19 is not.
        (at(2026, 9, 18, 17, 0), 1, WH, at(2026, 9, 20, 9, 0)),
        # Spring Festival 2026: Saturday Feb 14 worked, then Feb 15–23 off.
        (at(2026, 2, 13, 17, 0), 1, WD, at(2026, 2, 14, 17, 0)),
        (at(2026, 2, 14, 17, 0), 1, WH, at(2026, 2, 24, 9, 0)),
        # 2025 Labour Day: May 1–5 off, Sunday Apr 27 worked.
        (at(2025, 4, 25, 17, 0), 1, WH, at(2025, 4, 27, 9, 0)),
        (at(2025, 4, 30, 17, 0), 1, WH, at(2025, 5, 6, 9, 0)),
        # Emergencies run round the clock, holidays included.
        (at(2026, 10, 1, 23, 0), 4, H, at(2026, 10, 2, 3, 0)),
        (at(2026, 10, 1, 23, 0), 30, TimeUnit.MINUTES, at(2026, 10, 1, 23, 30)),
    ],
)
def test_add_working_time(start, value, unit, expected):
    result = add_working_time(start, value, unit)
    assert result == expected
    assert result.tzinfo is not None


def test_result_is_in_shanghai_even_for_utc_input():
    from datetime import UTC

    start = at(2026, 11, 23, 9, 0).astimezone(UTC)
    result = add_working_time(start, 1, WH)
    assert result.utcoffset() == timedelta(hours=8)
    assert result == at(2026, 11, 23, 10, 0)


def test_naive_datetimes_are_refused():
    from datetime import datetime

    with pytest.raises(ValueError):
        add_working_time(datetime(2026, 11, 23, 9), 1, WH)


def test_working_minutes_between():
    assert working_minutes_between(at(2026, 11, 27, 16, 0), at(2026, 11, 30, 11, 0)) == 240
    assert working_minutes_between(at(2026, 11, 30, 11, 0), at(2026, 11, 27, 16, 0)) == -240
    assert working_minutes_between(at(2026, 10, 1, 9, 0), at(2026, 10, 7, 17, 0)) == 0
    assert working_minutes_between(at(2026, 11, 23, 12, 0), at(2026, 11, 23, 13, 30)) == 0


def test_the_packages_holidays_are_in_the_database():
    # Migrations fill every year the installed chinese-calendar has (1.11: 2004–2026).
    assert CalendarDay.objects.get(date=date(2026, 10, 10)).kind == DayKind.WORKDAY
    assert CalendarDay.objects.get(date=date(2025, 1, 28)).kind == DayKind.HOLIDAY
    assert CalendarDay.objects.get(date=date(2026, 2, 14)).name == "春节调休"
    assert CalendarDay.objects.count() == len(holidays.package_days(*holidays.package_coverage()))
    assert set(CalendarDay.objects.values_list("source", flat=True)) == {DaySource.PACKAGE}
    assert list(WorkingPeriod.objects.values_list("starts", "ends")) == [
        (time(8, 30), time(12, 0)), (time(13, 30), time(17, 30))
    ]


def test_staff_edits_take_effect_at_once():
    monday = at(2026, 11, 23, 9, 0)
    assert add_working_time(monday, 1, WH) == at(2026, 11, 23, 10, 0)
    # A day off declared by the city (e.g. a local holiday) moves every deadline past it.
    day = CalendarDay.objects.create(date=date(2026, 11, 23), kind=DayKind.HOLIDAY, name="地方假日")
    assert add_working_time(monday, 1, WH) == at(2026, 11, 24, 9, 30)
    day.delete()
    assert add_working_time(monday, 1, WH) == at(2026, 11, 23, 10, 0)
    # Longer working periods lengthen a working day.
    WorkingPeriod.objects.filter(starts=time(13, 30)).update(ends=time(18, 0))
    wc.invalidate()
    assert wc.current().day_minutes == 210 + 270


def test_another_process_edit_is_seen_after_the_check_interval(monkeypatch):
    from django.core.cache import cache

    monday = at(2026, 11, 23, 9, 0)
    assert add_working_time(monday, 1, WH) == at(2026, 11, 23, 10, 0)
    # Another process adds a holiday (no signal here) and bumps the shared version.
    CalendarDay.objects.bulk_create([CalendarDay(date=date(2026, 11, 23), kind=DayKind.HOLIDAY, name="x")])
    assert add_working_time(monday, 1, WH) == at(2026, 11, 23, 10, 0)  # this process has not looked yet
    try:
        cache.incr(wc.VERSION_KEY)
    except ValueError:
        cache.set(wc.VERSION_KEY, 99)
    monkeypatch.setattr(wc, "CHECK_SECONDS", 0)
    assert add_working_time(monday, 1, WH) == at(2026, 11, 24, 9, 30)


def test_without_periods_the_default_day_applies():
    WorkingPeriod.objects.all().delete()
    wc.invalidate()
    assert add_working_time(at(2026, 11, 23, 11, 0), 2, WH) == at(2026, 11, 23, 14, 30)


def test_a_calendar_with_no_working_days_fails_loudly():
    from django.core.exceptions import ImproperlyConfigured

    cal = wc.WorkingCalendar.build([(time(9), time(10))], [])
    cal = wc.WorkingCalendar(cal.periods, frozenset(), frozenset())
    never = wc.WorkingCalendar(cal.periods, frozenset(date(2026, 1, 1) + timedelta(days=i)
                                                      for i in range(3 * 366 + 10)), frozenset())
    with pytest.raises(ImproperlyConfigured):
        never.add(at(2026, 1, 1, 9), 1, WH)


def test_thousands_of_deadlines_are_fast():
    import time as clock

    cal = wc.current()
    start = at(2026, 9, 28, 9, 0)
    began = clock.perf_counter()
    for i in range(10_000):
        cal.add(start + timedelta(minutes=7 * i), 1 + i % 10, WD if i % 2 else WH)
    assert clock.perf_counter() - began < 2.0


SNAPSHOT = wc.WorkingCalendar.build(
    wc.DEFAULT_PERIODS, [(d, kind) for d, (kind, _name) in holidays.package_days(2025, 2026).items()],
)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=at(2025, 1, 1).replace(tzinfo=None), max_value=at(2026, 12, 1).replace(tzinfo=None)),
    minutes=st.integers(min_value=1, max_value=20 * 450),
)
def test_adding_then_measuring_gives_back_the_minutes(start, minutes):
    start = start.replace(tzinfo=TZ, microsecond=0, second=0)
    end = SNAPSHOT.add_working_minutes(start, minutes)
    assert end > start
    assert SNAPSHOT.working_minutes_between(start, end) == pytest.approx(minutes, abs=1e-6)
    # The deadline never lands outside working time.
    local = end.astimezone(TZ)
    assert SNAPSHOT.is_working_day(local.date())
    clock = local.hour * 60 + local.minute
    assert any(a < clock <= b for a, b in SNAPSHOT.periods)


# --- the horizon: which coming years lack holidays ------------------------------------------

def calendar_with(*holiday_dates):
    return wc.WorkingCalendar.build(wc.DEFAULT_PERIODS, [(d, DayKind.HOLIDAY) for d in holiday_dates])


@pytest.mark.parametrize(
    ("today", "entered", "missing"),
    [
        # Mid-year: the 60 days stay inside a year that has its holidays.
        (date(2026, 6, 1), [date(2026, 1, 1)], []),
        # Early December reaches into a year nobody entered: 2026-12-06 + 60 days = 2027-02-04.
        (date(2026, 12, 6), [date(2026, 1, 1)], [2027]),
        (date(2026, 11, 1), [date(2026, 1, 1)], []),  # + 60 days = 2026-12-31, still 2026
        (date(2026, 11, 2), [date(2026, 1, 1)], [2027]),  # + 60 days = 2027-01-01
        (date(2026, 12, 6), [date(2026, 1, 1), date(2027, 1, 1)], []),
        # A local holiday alone does not make a year entered: 元旦 is the test.
        (date(2026, 12, 6), [date(2026, 1, 1), date(2027, 2, 1)], [2027]),
        # An empty calendar misses this year too.
        (date(2026, 6, 1), [], [2026]),
    ],
)
def test_years_without_holidays(today, entered, missing):
    assert years_without_holidays(today, calendar=calendar_with(*entered)) == missing


def test_years_without_holidays_reads_the_database_through_the_snapshot():
    last = holidays.package_coverage()[1]  # 2026 with chinese-calendar 1.11
    assert years_without_holidays(date(last, 6, 1)) == []
    assert years_without_holidays(date(last, 12, 6)) == [last + 1]
    CalendarDay.objects.create(date=date(last + 1, 1, 1), kind=DayKind.HOLIDAY, name="元旦")
    assert years_without_holidays(date(last, 12, 6)) == []


def test_the_calendar_imports_nothing_above_portal():
    """The bottom layer: cases, participation and volunteers use it, never the other way round."""
    import ast
    from pathlib import Path

    import portal.workcalendar

    above = {"grid", "cases", "residents", "volunteers"}
    for path in Path(portal.workcalendar.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            assert not {name.split(".")[0] for name in names} & above, (path, names)
