"""Writes to the working calendar that are more than a row in the admin.

`calendar_sync_from_package` is what `manage.py sync_holidays` and migration
0003 do: the chinese-calendar package's holidays and 调休 working days, year by
year, into CalendarDay. Staff's rows win (see DaySource).
"""

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from portal.errors import DomainError

from . import calendar, holidays
from .models import CalendarDay, DaySource, WorkingPeriod


@dataclass
class SyncReport:
    """What a sync did (or, dry, would do). Rows are (date, kind, name)."""

    first_year: int
    last_year: int
    added: list = field(default_factory=list)
    changed: list = field(default_factory=list)  # (date, (kind, name) before, (kind, name) after)
    removed: list = field(default_factory=list)  # package rows the package no longer lists
    kept: list = field(default_factory=list)  # (date, staff's (kind, name), the package's (kind, name))

    @property
    def changes(self):
        return len(self.added) + len(self.changed) + len(self.removed)


def calendar_sync_from_package(*, first_year=None, last_year=None, dry_run=False):
    """Upsert the package's holidays and 调休 days for first_year..last_year (default:
    every year the installed package covers). Idempotent.

    Rows the package wrote (source "package") follow it: added, corrected, or
    removed when a newer package no longer lists the date. Rows staff entered or
    edited (source "staff") are never changed or removed; where their kind differs
    from the package's they are reported as kept. Deadlines see the result once
    the transaction commits (the calendar's cache version is bumped then).
    """
    low, high = holidays.package_coverage()
    for year in (first_year, last_year):
        if year is not None and not low <= year <= high:
            raise DomainError(
                _("The installed chinese-calendar %(version)s has holidays for %(low)d–%(high)d only, not for "
                  "%(year)d. Upgrade it (pip install -U chinese-calendar) once it has that year, or enter the "
                  "year's holidays in the admin.")
                % {"version": holidays.package_version(), "low": low, "high": high, "year": year},
                code="years_not_covered",
            )
    first_year = low if first_year is None else first_year
    last_year = high if last_year is None else last_year
    if first_year > last_year:
        raise DomainError(_("The first year (%(first)d) is after the last (%(last)d).")
                          % {"first": first_year, "last": last_year}, code="years_reversed")
    wanted = holidays.package_days(first_year, last_year)
    report = SyncReport(first_year, last_year)
    with transaction.atomic():
        # Locks the years' rows: an admin edit meanwhile waits rather than being overwritten.
        rows = {row.date: row for row in CalendarDay.objects.select_for_update().filter(
            date__range=(date(first_year, 1, 1), date(last_year, 12, 31)))}
        for day, (kind, name) in wanted.items():
            row = rows.get(day)
            if row is None:
                report.added.append((day, kind, name))
            elif row.source == DaySource.STAFF:
                if row.kind != kind:
                    report.kept.append((day, (row.kind, row.name), (kind, name)))
            elif (row.kind, row.name) != (kind, name):
                report.changed.append((day, (row.kind, row.name), (kind, name)))
        report.removed = [(row.date, row.kind, row.name) for row in rows.values()
                          if row.source == DaySource.PACKAGE and row.date not in wanted]
        if dry_run or not report.changes:
            return report
        CalendarDay.objects.bulk_create([CalendarDay(date=day, kind=kind, name=name, source=DaySource.PACKAGE)
                                         for day, kind, name in report.added])
        for day, _before, (kind, name) in report.changed:
            CalendarDay.objects.filter(date=day, source=DaySource.PACKAGE).update(kind=kind, name=name)
        CalendarDay.objects.filter(date__in=[day for day, _kind, _name in report.removed],
                                   source=DaySource.PACKAGE).delete()
        transaction.on_commit(calendar.invalidate)
    return report


def calendar_load_defaults():
    """The calendar a new database starts with: the default working periods (only
    into an empty table) and every year the package has. Returns the rows written."""
    written = 0
    if not WorkingPeriod.objects.exists():
        WorkingPeriod.objects.bulk_create([WorkingPeriod(starts=starts, ends=ends)
                                           for starts, ends in calendar.DEFAULT_PERIODS])
        written += len(calendar.DEFAULT_PERIODS)
        transaction.on_commit(calendar.invalidate)
    return written + calendar_sync_from_package().changes
