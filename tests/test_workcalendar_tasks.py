"""portal/workcalendar/tasks.py: the daily warning while the next 60 days reach a year without holidays.

The clock is frozen with time-machine at the end of the last year the installed
chinese-calendar covers (2026 with 1.11), never read from the real date.
"""

import logging
from datetime import datetime

import pytest
import time_machine
from django.conf import settings

from portal.workcalendar import holidays, tasks
from portal.workcalendar.calendar import TZ
from portal.workcalendar.models import CalendarDay, DayKind

from .cases_factories import fresh_calendar  # noqa: F401

pytestmark = pytest.mark.django_db
LAST = holidays.package_coverage()[1]


def warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "portal.workcalendar.tasks"
            and r.levelno == logging.WARNING]


def test_warns_when_the_next_60_days_reach_a_year_without_holidays(caplog):
    with time_machine.travel(datetime(LAST, 12, 6, 9, 0, tzinfo=TZ), tick=False):
        assert tasks.warn_missing_holidays() == [LAST + 1]
    [line] = warnings(caplog)
    assert line.startswith(f"working calendar: no public holidays entered for {LAST + 1} "
                           f"(checked {LAST}-12-06 to {LAST + 1}-02-04)")
    assert "manage.py sync_holidays" in line


@pytest.mark.parametrize("today", [datetime(LAST, 6, 1, 9, 0, tzinfo=TZ), datetime(LAST, 11, 1, 23, 0, tzinfo=TZ)])
def test_silent_while_the_60_days_stay_in_entered_years(caplog, today):
    with time_machine.travel(today, tick=False):
        assert tasks.warn_missing_holidays() == []
    assert warnings(caplog) == []


def test_silent_once_staff_enter_the_next_year(caplog):
    CalendarDay.objects.create(date=datetime(LAST + 1, 1, 1).date(), kind=DayKind.HOLIDAY, name="元旦")
    with time_machine.travel(datetime(LAST, 12, 6, 9, 0, tzinfo=TZ), tick=False):
        assert tasks.warn_missing_holidays() == []
    assert warnings(caplog) == []


def test_the_shanghai_date_decides():
    # 16:30 UTC on 1 November is already 2 November in Shanghai: + 60 days reaches 1 January.
    from datetime import UTC

    with time_machine.travel(datetime(LAST, 11, 1, 16, 30, tzinfo=UTC), tick=False):
        assert tasks.warn_missing_holidays() == [LAST + 1]


def test_the_beat_runs_it_daily():
    from portal.celery import app

    # settings name the time as a plain dict (no Celery import there); the app makes it a crontab.
    assert settings.CELERY_BEAT_SCHEDULE["workcalendar-warn-missing-holidays"]["schedule"] == {"hour": 8, "minute": 7}
    entry = app.conf.beat_schedule["workcalendar-warn-missing-holidays"]
    assert entry["task"] == tasks.warn_missing_holidays.name == "portal.workcalendar.tasks.warn_missing_holidays"
    assert entry["schedule"].hour == {8}
