"""workcalendar 0003 on a database made before it: the hand-typed 2025–2026 rows that
nobody touched go to the package, anything staff changed stays staff's."""

import importlib
from datetime import date

import pytest
from django.apps import apps
from django.db import connection

from portal.workcalendar import holidays
from portal.workcalendar.models import CalendarDay, DayKind, DaySource

from .cases_factories import fresh_calendar  # noqa: F401

pytestmark = pytest.mark.django_db
step = importlib.import_module("portal.workcalendar.migrations.0003_holidays_from_package")


class SchemaEditor:
    connection = connection


def test_untouched_shipped_rows_go_to_the_package_and_edited_ones_stay_staffs():
    # The table as cases 0002 left it and 0002 marked it (every row staff's), after a year of use.
    CalendarDay.objects.all().delete()
    CalendarDay.objects.bulk_create([CalendarDay(date=day, kind=kind, name=name, source=DaySource.STAFF)
                                     for day, kind, name in step.SHIPPED])
    CalendarDay.objects.filter(date=date(2026, 10, 10)).update(kind=DayKind.HOLIDAY)  # staff changed it
    CalendarDay.objects.create(date=date(2026, 11, 23), kind=DayKind.HOLIDAY, name="地方假日")  # staff added it

    step.forward(apps, SchemaEditor)

    days = {row.date: row for row in CalendarDay.objects.all()}
    package = holidays.package_days(*holidays.package_coverage())
    assert (days[date(2026, 10, 10)].kind, days[date(2026, 10, 10)].source) == (DayKind.HOLIDAY, DaySource.STAFF)
    assert (days[date(2026, 11, 23)].name, days[date(2026, 11, 23)].source) == ("地方假日", DaySource.STAFF)
    # The shipped 2025 National Day was typed as one block; the package names each day.
    assert (days[date(2025, 10, 6)].name, days[date(2025, 10, 6)].source) == ("中秋节", DaySource.PACKAGE)
    assert (days[date(2025, 10, 1)].name, days[date(2025, 10, 1)].source) == ("国庆节", DaySource.PACKAGE)
    for day, (kind, name) in package.items():
        if day != date(2026, 10, 10):
            assert (days[day].kind, days[day].name, days[day].source) == (kind, name, DaySource.PACKAGE), day
    assert set(days) == set(package) | {date(2026, 11, 23)}


def test_the_shipped_list_agreed_with_the_package():
    """Why handing those rows over changes no deadline: same dates, same kinds."""
    package = holidays.package_days(2025, 2026)
    assert {day: kind for day, kind, _name in step.SHIPPED} == {day: kind for day, (kind, _n) in package.items()}
