"""manage.py sync_holidays: copy the chinese-calendar package's holidays and 调休
working days into the working calendar. Rerun it after upgrading the package
(pip install -U chinese-calendar) to get the next year. Idempotent; rows staff
entered or edited in the admin are never changed or removed."""

from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from portal.errors import DomainError
from portal.workcalendar import holidays
from portal.workcalendar.models import DayKind
from portal.workcalendar.services import calendar_sync_from_package


def _day(kind, name):
    return f"{DayKind(kind).label} {name}".strip()


class Command(BaseCommand):
    help = ("Upsert public holidays and 调休 working days from the chinese-calendar package, for every year it "
            "covers (or --from-year/--to-year). Rows entered or edited by staff are left as they are.")

    def add_arguments(self, parser):
        parser.add_argument("--from-year", type=int, help="first year (default: the package's first)")
        parser.add_argument("--to-year", type=int, help="last year (default: the package's last)")
        parser.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")

    def handle(self, *args, from_year=None, to_year=None, dry_run=False, verbosity=1, **options):
        try:
            report = calendar_sync_from_package(first_year=from_year, last_year=to_year, dry_run=dry_run)
        except DomainError as refused:
            raise CommandError(str(refused)) from refused
        low, high = holidays.package_coverage()
        self.stdout.write(_("chinese-calendar %(version)s covers %(low)d–%(high)d; synced %(first)d–%(last)d.") % {
            "version": holidays.package_version(), "low": low, "high": high,
            "first": report.first_year, "last": report.last_year})
        for year, count in sorted(Counter(day.year for day, _kind, _name in report.added).items()):
            self.stdout.write("  " + _("%(year)d: %(count)d days added") % {"year": year, "count": count})
            if verbosity > 1:
                for day, kind, name in report.added:
                    if day.year == year:
                        self.stdout.write(f"    + {day} {_day(kind, name)}")
        for day, before, after in report.changed:
            self.stdout.write(f"  ~ {day} {_day(*before)} → {_day(*after)}")
        gone = _("no longer in the package")
        for day, kind, name in report.removed:
            self.stdout.write(f"  - {day} {_day(kind, name)} ({gone})")
        for day, staff, package in report.kept:
            self.stdout.write(f"  = {day} {_day(*staff)} ("
                              + _("entered by staff, kept; the package says: %(day)s") % {"day": _day(*package)}
                              + ")")
        counts = {"added": len(report.added), "changed": len(report.changed), "removed": len(report.removed)}
        if dry_run:
            self.stdout.write(_("Dry run, nothing written: would add %(added)d, change %(changed)d, "
                                "remove %(removed)d.") % counts)
        elif report.changes:
            self.stdout.write(self.style.SUCCESS(_("Added %(added)d, changed %(changed)d, removed %(removed)d.")
                                                 % counts))
        else:
            self.stdout.write(_("Nothing to change: the calendar already has what the package has."))
