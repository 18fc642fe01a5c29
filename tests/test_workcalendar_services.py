"""portal/workcalendar/services.py: the chinese-calendar package into the calendar, staff's rows winning."""

from datetime import date

import pytest

from portal.errors import DomainError
from portal.workcalendar import calendar as wc
from portal.workcalendar import holidays
from portal.workcalendar.calendar import add_working_time
from portal.workcalendar.models import CalendarDay, DayKind, DaySource, TimeUnit, WorkingPeriod
from portal.workcalendar.services import calendar_load_defaults, calendar_sync_from_package

from .cases_factories import at, fresh_calendar  # noqa: F401

pytestmark = pytest.mark.django_db


def rows(year):
    return {row.date: (row.kind, row.name, row.source) for row in CalendarDay.objects.filter(date__year=year)}


def test_a_year_is_filled_from_the_package(django_capture_on_commit_callbacks):
    CalendarDay.objects.filter(date__year=2025).delete()
    before = wc.current()
    assert before.is_working_day(date(2025, 1, 28))  # 春节 2025 gone: a plain Tuesday
    with django_capture_on_commit_callbacks(execute=True):
        report = calendar_sync_from_package(first_year=2025, last_year=2025)
    expected = holidays.package_days(2025, 2025)
    assert [day for day, _kind, _name in report.added] == list(expected)
    assert (report.changed, report.removed, report.kept) == ([], [], [])
    assert rows(2025) == {day: (kind, name, DaySource.PACKAGE) for day, (kind, name) in expected.items()}
    # Hand-checked against the State Council's 2025 notice.
    assert rows(2025)[date(2025, 1, 28)] == (DayKind.HOLIDAY, "春节", DaySource.PACKAGE)
    assert rows(2025)[date(2025, 4, 27)] == (DayKind.WORKDAY, "劳动节调休", DaySource.PACKAGE)
    assert rows(2025)[date(2025, 4, 4)][1] == "清明节"
    # The cache version was bumped on commit: deadlines skip the Spring Festival again.
    # Monday 27 Jan 17:00: half an hour that day, half an hour on Wednesday 5 Feb.
    assert add_working_time(at(2025, 1, 27, 17, 0), 1, TimeUnit.WORKING_HOURS) == at(2025, 2, 5, 9, 0)


def test_a_second_run_changes_nothing(django_capture_on_commit_callbacks):
    first = calendar_sync_from_package()
    assert first.changes == 0  # the migrations already ran it
    snapshot = list(CalendarDay.objects.values_list("date", "kind", "name", "source"))
    with django_capture_on_commit_callbacks() as callbacks:
        again = calendar_sync_from_package()
    assert again.changes == 0 and callbacks == []  # nothing written, the cache left alone
    assert list(CalendarDay.objects.values_list("date", "kind", "name", "source")) == snapshot


def test_staff_rows_survive_and_are_reported_when_they_disagree():
    # Staff turned a 调休 Saturday into a day off, renamed a holiday, and added a local one.
    CalendarDay.objects.filter(date=date(2026, 10, 10)).update(kind=DayKind.HOLIDAY, name="本市调整",
                                                               source=DaySource.STAFF)
    CalendarDay.objects.filter(date=date(2026, 10, 1)).update(name="国庆", source=DaySource.STAFF)
    CalendarDay.objects.create(date=date(2026, 11, 23), kind=DayKind.HOLIDAY, name="地方假日")
    report = calendar_sync_from_package(first_year=2026, last_year=2026)
    assert report.changes == 0
    assert report.kept == [(date(2026, 10, 10), (DayKind.HOLIDAY, "本市调整"), (DayKind.WORKDAY, "国庆节调休"))]
    assert rows(2026)[date(2026, 10, 10)] == (DayKind.HOLIDAY, "本市调整", DaySource.STAFF)
    assert rows(2026)[date(2026, 10, 1)] == (DayKind.HOLIDAY, "国庆", DaySource.STAFF)
    assert rows(2026)[date(2026, 11, 23)] == (DayKind.HOLIDAY, "地方假日", DaySource.STAFF)


def test_package_rows_follow_the_package():
    # As if an older package had a wrong name and a day that a newer one dropped.
    CalendarDay.objects.filter(date=date(2026, 1, 1)).update(name="旧名")
    CalendarDay.objects.create(date=date(2026, 3, 2), kind=DayKind.HOLIDAY, name="误录", source=DaySource.PACKAGE)
    report = calendar_sync_from_package(first_year=2026, last_year=2026)
    assert report.changed == [(date(2026, 1, 1), (DayKind.HOLIDAY, "旧名"), (DayKind.HOLIDAY, "元旦"))]
    assert report.removed == [(date(2026, 3, 2), DayKind.HOLIDAY, "误录")]
    assert rows(2026)[date(2026, 1, 1)] == (DayKind.HOLIDAY, "元旦", DaySource.PACKAGE)
    assert date(2026, 3, 2) not in rows(2026)


def test_a_dry_run_reports_and_writes_nothing(django_capture_on_commit_callbacks):
    CalendarDay.objects.filter(date__year=2025).delete()
    with django_capture_on_commit_callbacks() as callbacks:
        report = calendar_sync_from_package(first_year=2025, last_year=2025, dry_run=True)
    assert len(report.added) == len(holidays.package_days(2025, 2025)) and callbacks == []
    assert rows(2025) == {}


@pytest.mark.parametrize(
    ("years", "code"),
    [((2026, 2025), "years_reversed"), ((2025, 2999), "years_not_covered"), ((1999, 2005), "years_not_covered"),
     ((2999, None), "years_not_covered")],
)
def test_years_the_package_cannot_give_are_refused(years, code):
    with pytest.raises(DomainError) as refused:
        calendar_sync_from_package(first_year=years[0], last_year=years[1])
    assert refused.value.code == code


def test_defaults_refill_an_emptied_calendar():
    CalendarDay.objects.all().delete()
    WorkingPeriod.objects.all().delete()
    written = calendar_load_defaults()
    assert list(WorkingPeriod.objects.values_list("starts", "ends")) == list(wc.DEFAULT_PERIODS)
    assert written == len(wc.DEFAULT_PERIODS) + len(holidays.package_days(*holidays.package_coverage()))
    assert calendar_load_defaults() == 0
