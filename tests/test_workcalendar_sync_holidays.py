"""manage.py sync_holidays: fills years from chinese-calendar, idempotent, clear about bad years."""

import io
import re
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from portal.workcalendar import holidays
from portal.workcalendar.models import CalendarDay, DayKind, DaySource

from .cases_factories import fresh_calendar  # noqa: F401

pytestmark = pytest.mark.django_db


def sync(*args):
    out = io.StringIO()
    with translation.override("en"):
        call_command("sync_holidays", *args, stdout=out)
    return out.getvalue()


def test_it_fills_a_year_then_finds_nothing_to_do():
    CalendarDay.objects.filter(date__year=2026).delete()
    CalendarDay.objects.create(date=date(2026, 10, 10), kind=DayKind.HOLIDAY, name="本市调整")  # staff's
    first = sync("--from-year", "2026", "--to-year", "2026")
    added = len(holidays.package_days(2026, 2026)) - 1
    assert "synced 2026–2026" in first
    assert f"2026: {added} days added" in first
    assert "2026-10-10 Public holiday (no work) 本市调整 (entered by staff, kept; the package says: " \
           "Working day in exchange (调休) 国庆节调休)" in first
    assert f"Added {added}, changed 0, removed 0." in first
    assert CalendarDay.objects.filter(date__year=2026, source=DaySource.PACKAGE).count() == added
    assert CalendarDay.objects.get(date=date(2026, 10, 10)).kind == DayKind.HOLIDAY
    assert "Nothing to change" in sync("--from-year", "2026", "--to-year", "2026")
    assert "Nothing to change" in sync()  # every year the package covers


def test_verbosity_two_lists_each_day_added():
    CalendarDay.objects.filter(date__year=2025).delete()
    out = sync("--from-year", "2025", "--to-year", "2025", "--verbosity", "2")
    assert "+ 2025-01-28 Public holiday (no work) 春节" in out
    assert "+ 2025-04-27 Working day in exchange (调休) 劳动节调休" in out


def test_a_dry_run_writes_nothing():
    CalendarDay.objects.filter(date__year=2025).delete()
    out = sync("--from-year", "2025", "--dry-run")
    assert f"would add {len(holidays.package_days(2025, 2025))}, change 0, remove 0" in out
    assert not CalendarDay.objects.filter(date__year=2025).exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--from-year", "2026", "--to-year", "2025"], "The first year (2026) is after the last (2025)."),
        (["--to-year", "2999"], "has holidays for {low}–{high} only, not for 2999."),
        (["--from-year", "1990"], "has holidays for {low}–{high} only, not for 1990."),
        # The year after the package's last, alone: the usual mistake in December.
        (["--from-year", str(holidays.package_coverage()[1] + 1)], "only, not for {next}. Upgrade it"),
        (["--from-year", "next"], "invalid int value: 'next'"),
    ],
)
def test_bad_years_are_a_clear_error(args, says):
    low, high = holidays.package_coverage()
    with pytest.raises(CommandError, match=re.escape(says.format(low=low, high=high, next=high + 1))):
        sync(*args)
