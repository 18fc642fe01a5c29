"""Thin Celery tasks of the working calendar. Safe to run twice."""

import logging
from datetime import timedelta

from django.utils import timezone

from portal.celery import shared_task

from . import calendar

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def warn_missing_holidays():
    """Beat, daily: while the next WARNING_DAYS days reach a year without holidays, say so in the log.

    Reads only. Staff see the same warning as a banner in the admin.
    """
    today = timezone.localdate()
    years = calendar.years_without_holidays(today)
    if years:
        log.warning(
            "working calendar: no public holidays entered for %s (checked %s to %s); deadlines there count "
            "holidays as working days. Run `manage.py sync_holidays` after upgrading chinese-calendar, or enter "
            "the State Council's notice in the admin (Working calendar > Calendar days).",
            ", ".join(map(str, years)), today, today + timedelta(days=calendar.WARNING_DAYS),
        )
    return years
