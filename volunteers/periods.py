"""Periods of rankings and honours, as people write them: "2026", "2026-Q3", "2026-11"."""

import re
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import DomainError

PERIOD = re.compile(r"^(?P<year>[0-9]{4})(?:-Q(?P<quarter>[1-4])|-(?P<month>0[1-9]|1[0-2]))?$")


def period_bounds(text):
    """[since, until) of a period in the portal's time zone; DomainError for anything else."""
    match = PERIOD.match(str(text or "").strip().upper())
    if not match or not 2000 <= int(match["year"]) <= 2100:
        raise DomainError(_("Write the period as a year (2026), a quarter (2026-Q3) or a month (2026-11)."),
                          code="bad_period")
    year = int(match["year"])
    if match["quarter"]:
        first, months = (int(match["quarter"]) - 1) * 3 + 1, 3
    elif match["month"]:
        first, months = int(match["month"]), 1
    else:
        first, months = 1, 12
    end_year, end_month = year + (first - 1 + months) // 12, (first - 1 + months) % 12 + 1
    zone = timezone.get_current_timezone()
    return datetime(year, first, 1, tzinfo=zone), datetime(end_year, end_month, 1, tzinfo=zone)


def normalise_period(text):
    period_bounds(text)
    return str(text).strip().upper()


def current_year(now=None):
    return str(timezone.localtime(now).year)
